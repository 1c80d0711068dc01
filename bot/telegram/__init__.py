"""The Telegram channel: relays a child's chat to the engine and the bot's replies back.

- application.py  builds the one PTB Application (polling locally, webhook in production)
- handlers.py     /start <token or code> (redeemed in the app), /help, /stop, typed text, taps
- keyboard.py     Rasa buttons -> inline keyboard (PTB's arbitrary callback data)
- persistence.py  PTB's callback-data cache kept in the store (buttons survive a restart)
- messages.py     deep links (link tokens), codes and tokens in what the child sends
- webhook.py      POST /telegram/webhook for the FastAPI app
- reminders.py    `python -m bot send-reminders`

What the channel keeps in the store is `bot.services`': telegram_chats (linked chats,
reminders due), telegram_updates (webhook update claims), telegram_keyboards (buttons),
telegram_identity (the chat's hashes and sealed id).
"""
