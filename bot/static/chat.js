// PEP Voice web chat. Renders whatever the bot sends (text, buttons, several messages a turn);
// the server keeps the transcript, so a refresh or a dropped connection loses nothing.
(function () {
  "use strict";

  var log = document.getElementById("log");
  var choices = document.getElementById("choices");
  var form = document.getElementById("composer");
  var input = document.getElementById("answer");
  var sendButton = document.getElementById("send");
  var problem = document.getElementById("problem");
  var problemText = document.getElementById("problem-text");
  var retryButton = document.getElementById("retry");
  var sending = document.getElementById("sending");
  var finishButton = document.getElementById("finish");
  var FINISHED_PAGE = "/chat/finished";
  var NOT_SAVED = form.getAttribute("data-not-saved");
  var canSpeak = "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var retry = null; // what "Try again" does
  var busy = false;

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { "X-PEP-Voice": "1" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(
      function (response) {
        if (response.status === 401 && path !== "/chat/api/finish") {
          // The chat was left unused too long (or finished in another tab): ask for the code.
          window.location.assign("/chat");
        }
        return response.json().then(
          function (data) { return { ok: response.ok, status: response.status, data: data }; },
          function () { return { ok: false, status: response.status, data: {} }; }
        );
      },
      function () { return { ok: false, status: 0, data: {} }; } // offline, server gone
    );
  }

  function problemMessage(result, fallback) {
    var detail = result.data && result.data.detail;
    return (detail && detail.message) || fallback;
  }

  // --- showing messages ---------------------------------------------------------------------

  var SPEAKER_ICON =
    '<svg aria-hidden="true" viewBox="0 0 24 24" focusable="false"><path fill="currentColor" ' +
    'd="M3 9v6h4l5 4V5L7 9H3zm13.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"/></svg>';

  function speak(text, button) {
    var wasSpeaking = button.getAttribute("aria-pressed") === "true";
    window.speechSynthesis.cancel();
    var pressed = document.querySelectorAll('.speak[aria-pressed="true"]');
    for (var i = 0; i < pressed.length; i++) pressed[i].setAttribute("aria-pressed", "false");
    if (wasSpeaking) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "en-GB";
    var voices = window.speechSynthesis.getVoices();
    for (var v = 0; v < voices.length; v++) {
      if (voices[v].lang === "en-GB" || voices[v].lang === "en_GB") { utterance.voice = voices[v]; break; }
    }
    utterance.onend = utterance.onerror = function () { button.setAttribute("aria-pressed", "false"); };
    button.setAttribute("aria-pressed", "true");
    window.speechSynthesis.speak(utterance);
  }

  function addMessage(entry) {
    var bubble = document.createElement("div");
    var fromBot = entry.sender === "bot";
    bubble.className = "msg " + (fromBot ? "msg-bot" : "msg-child");
    bubble.id = "msg-" + entry.id;
    var who = document.createElement("p");
    who.className = "who";
    who.textContent = fromBot ? "PEP Voice" : "You";
    var text = document.createElement("p");
    text.id = "msg-text-" + entry.id;
    text.textContent = entry.text;
    bubble.appendChild(who);
    bubble.appendChild(text);
    if (fromBot && canSpeak && entry.text) {
      var listen = document.createElement("button");
      listen.type = "button";
      listen.className = "speak";
      listen.setAttribute("aria-pressed", "false");
      listen.setAttribute("aria-describedby", text.id);
      listen.innerHTML = SPEAKER_ICON + "<span>Read aloud</span>";
      listen.addEventListener("click", function () { speak(entry.text, listen); });
      bubble.appendChild(listen);
    }
    log.appendChild(bubble);
    return bubble;
  }

  function isEmoji(title) {
    try { return /^[\p{Extended_Pictographic}\u200d\ufe0f\s]+$/u.test(title); } catch (e) { return false; }
  }

  // Buttons are offered only for the bot's latest turn: earlier ones are answered already.
  function showChoices(messages) {
    choices.innerHTML = "";
    var offered = [];
    for (var i = messages.length - 1; i >= 0 && messages[i].sender === "bot"; i--) {
      offered = (messages[i].buttons || []).concat(offered);
    }
    offered.forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.title;
      if (isEmoji(choice.title)) button.className = "emoji";
      button.addEventListener("click", function () {
        send({ payload: choice.payload, title: choice.title }, null);
      });
      choices.appendChild(button);
    });
    choices.hidden = offered.length === 0;
    return offered.length > 0;
  }

  function showState(data) {
    var progress = data.progress;
    if (progress) {
      document.getElementById("progress-label").textContent = progress.label;
      var steps = document.getElementById("progress-steps");
      steps.innerHTML = "";
      for (var n = 1; n <= progress.parts; n++) {
        var step = document.createElement("li");
        if (progress.done || n < progress.part) step.className = "done";
        else if (n === progress.part) step.className = "current";
        steps.appendChild(step);
      }
    }
    var answering = document.getElementById("answering");
    document.getElementById("answering-who").textContent = data.answering || "";
    answering.hidden = !data.answering;
  }

  function showTurn(data, all) {
    var last = null;
    data.messages.forEach(function (entry) { last = addMessage(entry); });
    showState(data);
    var hasChoices = showChoices(all);
    // The newest message and any choices sit just above the answer box: scroll to the end.
    if (last) window.scrollTo({ top: document.documentElement.scrollHeight, behavior: reducedMotion ? "auto" : "smooth" });
    return hasChoices;
  }

  // --- talking to the server ----------------------------------------------------------------

  var transcript = [];

  function setBusy(value, label) {
    busy = value;
    sendButton.disabled = value;
    var buttons = choices.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = value;
    sending.textContent = value ? label : "";
  }

  function showProblem(title, message, again) {
    document.getElementById("problem-title").textContent = title;
    problemText.textContent = message;
    problem.hidden = false;
    retryButton.hidden = !again;
    retry = again;
    window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "auto" });
  }

  function clearProblem() {
    problem.hidden = true;
    retry = null;
  }

  function afterTurn(data, focusChoices) {
    transcript = transcript.concat(data.messages);
    var hasChoices = showTurn(data, transcript);
    if (focusChoices && hasChoices) choices.querySelector("button").focus();
    else if (focusChoices) input.focus();
  }

  function start() {
    setBusy(true, "Starting the chat…");
    return api("POST", "/chat/api/start", {}).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        showProblem("Not started.", problemMessage(result, "Sorry, the chat isn't working just now. Please try again in a minute."), start);
        return;
      }
      clearProblem();
      afterTurn(result.data, false);
    });
  }

  // body: {text} typed (kept in the box until it is sent) or {payload, title} for a button.
  function send(body, typed) {
    if (busy) return;
    clearProblem();
    var usedButton = typed === null;
    setBusy(true, "Sending…");
    api("POST", "/chat/api/send", body).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        // A button from an earlier turn cannot be sent again; anything else can be retried.
        var stale = result.data.detail && result.data.detail.error === "stale_button";
        showProblem("Not sent.", problemMessage(result, NOT_SAVED), stale ? null : function () { send(body, typed); });
        return;
      }
      if (!usedButton && input.value === typed) input.value = "";
      afterTurn(result.data, usedButton);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    send({ text: text }, text);
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  retryButton.addEventListener("click", function () {
    if (retry) retry();
  });

  // Finish: the server forgets this chat and its cookie, so the next person on this device
  // sees the code page. The child's answers are already saved.
  function finish() {
    finishButton.disabled = true;
    api("POST", "/chat/api/finish", {}).then(function (result) {
      if (result.ok || result.status === 401) {
        window.location.assign(FINISHED_PAGE);
        return;
      }
      finishButton.disabled = false;
      showProblem("Not finished.", problemMessage(result, "Please try again, or close this page."), finish);
    });
  }

  finishButton.addEventListener("click", finish);

  api("GET", "/chat/api/history").then(function (result) {
    if (!result.ok) {
      log.setAttribute("aria-busy", "false");
      showProblem("Not loaded.", problemMessage(result, "Couldn't load the chat. Check the internet connection."), function () {
        window.location.reload();
      });
      return;
    }
    if (result.data.submitted) {
      // Already sent: nothing is shown again on this device.
      window.location.assign(FINISHED_PAGE);
      return;
    }
    transcript = result.data.messages;
    showTurn(result.data, transcript);
    // Restored history is not news: only later messages are announced by the live log.
    log.setAttribute("aria-busy", "false");
    if (!result.data.started) start();
  });
})();
