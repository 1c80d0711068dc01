"""What the app itself says to a child, in one place (the bot's conversation is in domain/).

These are the fixed texts of the channels (web chat, Telegram, terminal) and of redeeming a
code: when something fails, when a page is out of date, when the chat is over. Children in
care read them, often on a phone, sometimes with a carer. The style, checked where a
machine can check it by tests/test_child_texts.py:

- Short sentences, plain everyday words. Say what happened, then what to do next.
- Kind and calm, never patronising: no "don't worry", no pet names, no shouting.
- Honest about what it is: the bot is a computer program, so it never claims feelings
  ("I feel", "I'm sorry to hear") or to be a person.
- Reassure that nothing is lost when that is true; never blame the child.
- No names and no child's words: a text may show on a lock screen or a shared device.
"""

from __future__ import annotations

# -- redeeming a code or link (web chat, Telegram, terminal) --------------------------------

#: The one answer to every refused code or link, whatever the reason.
REFUSED_MESSAGE = (
    "That code or link isn't working. It may be mistyped, out of date, or already used. "
    "Please check it, or ask your teacher for a new one."
)
THROTTLED_MESSAGE = (
    "That's a lot of tries. Please wait a few minutes, then try again, "
    "or ask your teacher to check your code."
)
REFUSED_TITLE = "That didn't work"
THROTTLED_TITLE = "Please wait a little"

# -- every channel ----------------------------------------------------------------------------

#: Said by a channel when the engine or the action server could not take the message.
NOT_SAVED_MESSAGE = "Sorry, I couldn't save that just now. Please send it again in a minute."
TOO_LONG_MESSAGE = "That's too long to send. Please make it shorter."

# -- the web chat -----------------------------------------------------------------------------

START_FAILED_MESSAGE = (
    "Sorry, the chat isn't working just now. Please try again in a minute. "
    "Nothing you've said has been lost."
)
SERVICE_DOWN_MESSAGE = "Sorry, PEP Voice isn't working just now. Please try again later."
FINISHED_TITLE = "You've finished"
FINISHED_MESSAGE = (
    "You can close this page. Everything you said has been saved. "
    "To carry on later, open your link or type your code again."
)
SENT_TITLE = "Your answers have been sent"
SENT_MESSAGE = "Thank you! Your answers have already been sent to your designated teacher."
CODE_IN_CHAT_MESSAGE = (
    "That looks like a code. You don't need it here: you're already in your chat, and I "
    "haven't kept it. Please type your answer again without the code."
)
REVOKED_SESSION_MESSAGE = (
    "This chat has been closed because a new code was made for you. "
    "Please ask your teacher for it. Everything you said has been saved."
)
STALE_FORM_MESSAGE = "That page was out of date. Please press Start again."

# -- the reflection (actions/) -----------------------------------------------------------

#: In the summary at the check step, in place of a skipped answer.
SKIPPED_IN_SUMMARY = "(you skipped this)"
#: Asked if the teacher's question was withdrawn while the child's chat was open (approved).
NO_TEACHER_QUESTION = "Is there anything else you'd like to tell your teacher?"

# -- Telegram ---------------------------------------------------------------------------------

NOT_TEXT_MESSAGE = "I can only read typed messages. Please type your answer."
CHOOSE_PROMPT = "Please choose:"
BUTTON_EXPIRED_MESSAGE = "That button has run out. Please type your answer instead."
#: Before the tapped button's title, when the keyboard message cannot be edited to show it.
YOU_CHOSE = "You chose:"
#: Shown on a lock screen: kind, short, and no names.
REMINDER_MESSAGE = (
    "Hi! Your PEP meeting is coming up soon. "
    "If you'd like to finish your answers, just send me a message."
)
