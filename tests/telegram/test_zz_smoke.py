from tests.telegram.conftest import running_bot, buttons
import pytest

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_smoke(database_url):
    async with running_bot(database_url) as bot:
        [screen] = await bot.say("/subscribe", language_code="fr")
        print(screen["text"], buttons(screen))
        await bot.tap("1:k:fr", message_id=screen["message_id"], language_code="fr")
        msgs = await bot.api.wait_for_messages(1001, 2)
        print(msgs[-1]["text"], buttons(msgs[-1]))
        await bot.tap("1:e:", language_code="fr")
        msgs = await bot.api.wait_for_messages(1001, 3)
        print(msgs[-1]["text"])
        [r] = await bot.say("not an email", language_code="fr")
        print(r["text"])
        [r] = await bot.say("ana@lyon.fr", language_code="fr")
        print(r["text"], buttons(r))
        [r] = await bot.say("/mydata", language_code="fr", count=2)
        print(r["text"])
        print(bot.api.messages_to(1001)[-1])
