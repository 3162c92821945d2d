"""Following challenges, notification settings, unsubscribe links and the due mails."""
