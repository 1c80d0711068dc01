"""Emailing the school's Designated Safeguarding Lead (DSL) about a concern, one job a module:

- `recipients`: who is told (a pure choice over the school's contacts);
- `facts` and `compose`: what they are told (templates in bot/templates/email/; the reply the
  child was given comes from the domain; never the child's words);
- `delivery`: how it is sent: the concern row is the outbox and one worker, run by the
  scheduler (bot/scheduler.py), delivers what is due under one retry policy;
- `unrecorded`: the notice sent at once when the database could not store a disclosure.

SMTP itself is bot.mail. Logs and the audit log hold ids, counts and reason codes only.
"""
