"""Messages that reach people outside the pages: SMS and e-mail, written in the transaction of
the change that causes them and delivered afterwards, with retries (see outbox.py)."""
