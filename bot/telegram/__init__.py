"""The Telegram channel: relays a child's chat to the engine and the bot's replies back.

- application.py  builds the one PTB Application (polling locally, webhook in production)
- handlers.py     /start <token or code> (redeemed in the app), /help, /stop, typed text, taps
- keyboard.py     Rasa buttons -> inline keyboard (PTB's arbitrary callback data)
- persistence.py  PTB's callback-data cache kept in the store (buttons survive a restart)
- messages.py     deep links (link tokens), codes and tokens in what the child sends
- identity.py     the engine sender id, the chat hash and the sealed chat id
- links.py        what the channel keeps in the store: linked chats, webhook update claims
- webhook.py      POST /telegram/webhook for the FastAPI app
- reminders.py    `python -m bot send-reminders`
"""
