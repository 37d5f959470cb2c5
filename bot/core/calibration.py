"""How the matcher's thresholds are checked without `eval/`: cross-validation on the FAQ's own variants.

    .venv/bin/python -m bot.core.calibration [FAQ_DIR]

Each fifth of every topic's variants (but its first, its title question) is set aside, the index is built
on the rest, and each variant set aside is asked as written and once more with typos; the out-of-scope
questions below, written for the purpose (near misses about UNESCO, cities and education, and unrelated
requests, in every language), are asked too. It prints, for the word matcher alone with its former
thresholds and for the current `Thresholds`, the share of the variants answered right and answered with
an unrelated topic, and the share of out-of-scope questions answered.

It does the same once more with each question inside a few sentences of context (who asks, a greeting,
thanks: `calibration_context.yaml`), as a long message asks it: context must not turn a question towards
another topic, nor make an out-of-scope question answered.

The variants set aside are harder than real questions (many say one fact no other variant says), so the
right-answer rate is far below `lcbot eval`'s; what it is for is comparing settings at equal risk: a
setting is kept when it answers more variants right without answering more of them wrong, nor more
out-of-scope questions.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import yaml

from bot.core.answering import Answerer, Question
from bot.core.faq import Faq
from bot.core.matching import MatchKind, Thresholds

FOLDS = 5
# The thresholds of the word matcher alone, before the n-gram opinion was blended in.
WORDS_ONLY = Thresholds(answer=0.69, lead_answer=0.56, sure=0.97, typical_answer=0.50, opinion_share=0.0)

OUT_OF_SCOPE: dict[str, list[str]] = {
    "en": ["How do I get a job at UNESCO?", "Can I apply for an internship at UNESCO?",
           "How does a site get on the World Heritage list?", "What is the capital of Australia?",
           "My city's buses are always late, who do I complain to?", "Where can I learn Spanish online for free?",
           "How do I register my child for primary school?", "What is the population of Tokyo?",
           "How much does UNESCO spend each year?", "Who is the mayor of Hamburg?",
           "Can you book me a hotel in Hamburg?", "What is a smart city?", "How do I renew my passport?",
           "Which university is the best for engineering?", "What time does the library open on Sunday?",
           "Tell me a joke", "How many people live in Hamburg?", "When was UNESCO founded?",
           "Who is the Director-General of UNESCO?", "How do I apply for a scholarship to study abroad?",
           "What are the opening hours of the city hall?", "How do I become a teacher?",
           "Is there a fee to visit the museum?", "Which cities have the best public transport?",
           "How do I join a gym?", "What is the deadline for my tax return?",
           "What will the weather be like tomorrow in Paris?", "Who won the football match last night?",
           "How do I make a chocolate cake?"],
    "fr": ["Comment obtenir un emploi à l'UNESCO ?", "Comment postuler pour un stage à l'UNESCO ?",
           "Comment inscrire un site au patrimoine mondial ?", "Quelle est la capitale du Canada ?",
           "Les bus de ma ville sont toujours en retard, à qui me plaindre ?",
           "Où apprendre l'anglais gratuitement en ligne ?", "Comment inscrire mon enfant à l'école primaire ?",
           "Combien d'habitants compte Marseille ?", "Qui est le maire de Lyon ?",
           "Peux-tu me réserver un hôtel à Hambourg ?", "C'est quoi une ville intelligente ?",
           "Comment renouveler mon passeport ?", "Raconte-moi une blague", "Combien d'habitants à Hambourg ?",
           "Quand l'UNESCO a-t-elle été créée ?", "Qui dirige l'UNESCO ?",
           "Comment obtenir une bourse pour étudier à l'étranger ?", "Quels sont les horaires de la mairie ?",
           "Comment devenir enseignant ?", "L'entrée du musée est-elle payante ?",
           "Quelle ville a les meilleurs transports ?", "Comment s'inscrire à la salle de sport ?",
           "Quelle est la date limite de la déclaration d'impôts ?", "Quel temps fera-t-il demain à Lyon ?"],
    "es": ["¿Cómo consigo trabajo en la UNESCO?", "¿Cómo solicito unas prácticas en la UNESCO?",
           "¿Cómo se declara un sitio patrimonio de la humanidad?", "¿Cuál es la capital de Perú?",
           "Los autobuses de mi ciudad siempre llegan tarde, ¿dónde me quejo?",
           "¿Dónde aprendo inglés gratis por internet?", "¿Cómo matriculo a mi hijo en la escuela primaria?",
           "¿Cuántos habitantes tiene Sevilla?", "¿Quién es el alcalde de Bogotá?",
           "¿Me reservas un hotel en Hamburgo?", "¿Qué es una ciudad inteligente?", "¿Cómo renuevo el pasaporte?",
           "Cuéntame un chiste", "¿Cuánta gente vive en Hamburgo?", "¿Cuándo se fundó la UNESCO?",
           "¿Quién dirige la UNESCO?", "¿Cómo pido una beca para estudiar en el extranjero?",
           "¿Qué horario tiene el ayuntamiento?", "¿Cómo llego a ser profesor?",
           "¿Cuánto cuesta la entrada al museo?", "¿Qué ciudad tiene el mejor transporte público?",
           "¿Cómo me apunto al gimnasio?", "¿Cuándo vence el plazo de la declaración de la renta?",
           "¿Qué tiempo hará mañana en Madrid?"],
    "de": ["Wie bekomme ich einen Job bei der UNESCO?", "Kann ich ein Praktikum bei der UNESCO machen?",
           "Wie wird ein Ort zum Welterbe?", "Was ist die Hauptstadt von Kanada?",
           "Die Busse in meiner Stadt kommen immer zu spät, wo beschwere ich mich?",
           "Wo kann ich kostenlos online Englisch lernen?", "Wie melde ich mein Kind in der Grundschule an?",
           "Wie viele Einwohner hat München?", "Wer ist der Bürgermeister von Köln?",
           "Kannst du mir ein Hotel in Hamburg buchen?", "Was ist eine Smart City?",
           "Wie verlängere ich meinen Reisepass?", "Erzähl mir einen Witz", "Wie viele Menschen leben in Hamburg?",
           "Wann wurde die UNESCO gegründet?", "Wer leitet die UNESCO?",
           "Wie bekomme ich ein Stipendium fürs Ausland?", "Wann hat das Rathaus geöffnet?", "Wie werde ich Lehrer?",
           "Kostet der Museumseintritt etwas?", "Welche Stadt hat den besten Nahverkehr?",
           "Wie melde ich mich im Fitnessstudio an?", "Bis wann muss die Steuererklärung abgegeben werden?",
           "Wie wird das Wetter morgen in Berlin?"],
    "pt": ["Como consigo um emprego na UNESCO?", "Como me candidato a um estágio na UNESCO?",
           "Como um lugar vira patrimônio mundial?", "Qual é a capital do Canadá?",
           "Os ônibus da minha cidade sempre atrasam, onde reclamo?", "Onde aprender inglês de graça na internet?",
           "Como matriculo meu filho na escola primária?", "Quantos habitantes tem Lisboa?",
           "Quem é o prefeito de São Paulo?", "Você pode reservar um hotel em Hamburgo para mim?",
           "O que é uma cidade inteligente?", "Como renovo meu passaporte?", "Conta uma piada",
           "Quantas pessoas moram em Hamburgo?", "Quando a UNESCO foi fundada?", "Quem dirige a UNESCO?",
           "Como consigo uma bolsa para estudar no exterior?", "Qual é o horário da prefeitura?",
           "Como me torno professor?", "A entrada do museu é paga?", "Qual cidade tem o melhor transporte público?",
           "Como me inscrevo na academia?", "Qual é o prazo do imposto de renda?"],
    "ru": ["Как устроиться на работу в ЮНЕСКО?", "Как попасть на стажировку в ЮНЕСКО?",
           "Как объект попадает в список всемирного наследия?", "Какая столица у Канады?",
           "Автобусы в моём городе всегда опаздывают, куда жаловаться?", "Где бесплатно выучить английский онлайн?",
           "Как записать ребёнка в начальную школу?", "Сколько жителей в Казани?", "Кто мэр Новосибирска?",
           "Забронируй мне гостиницу в Гамбурге", "Что такое умный город?", "Как продлить загранпаспорт?",
           "Расскажи анекдот", "Сколько людей живёт в Гамбурге?", "Когда была основана ЮНЕСКО?",
           "Кто руководит ЮНЕСКО?", "Как получить стипендию для учёбы за границей?", "Когда работает мэрия?",
           "Как стать учителем?", "Вход в музей платный?", "В каком городе лучший общественный транспорт?",
           "Как записаться в спортзал?", "Когда последний срок подачи налоговой декларации?",
           "Какая погода будет завтра в Москве?"],
    "ar": ["كيف أحصل على وظيفة في اليونسكو؟", "كيف أتقدم لتدريب في اليونسكو؟",
           "كيف يدرج موقع في قائمة التراث العالمي؟", "ما هي عاصمة كندا؟",
           "الحافلات في مدينتي تتأخر دائما، لمن أشتكي؟", "أين أتعلم الإنجليزية مجانا عبر الإنترنت؟",
           "كيف أسجل ابني في المدرسة الابتدائية؟", "كم عدد سكان القاهرة؟",
           "من هو عمدة دبي؟", "هل يمكنك حجز فندق لي في هامبورغ؟",
           "ما هي المدينة الذكية؟", "كيف أجدد جواز سفري؟",
           "احكِ لي نكتة", "كم عدد سكان هامبورغ؟",
           "متى تأسست اليونسكو؟", "من يدير اليونسكو؟",
           "كيف أحصل على منحة للدراسة في الخارج؟", "ما هي مواعيد عمل البلدية؟",
           "كيف أصبح معلما؟", "هل دخول المتحف مدفوع؟",
           "أي مدينة لديها أفضل نقل عام؟", "كيف أشترك في النادي الرياضي؟",
           "ما هو آخر موعد للإقرار الضريبي؟", "ما هي حالة الطقس غدا؟"],
    "zh": ["怎么去联合国教科文组织工作？", "怎样申请联合国教科文组织的实习？", "一个地方怎么成为世界遗产？",
           "加拿大的首都是哪里？", "我们市的公交车总是晚点，去哪里投诉？", "在哪里可以免费在线学英语？",
           "孩子上小学怎么报名？", "上海有多少人口？", "杭州市长是谁？",
           "能帮我订一家汉堡的酒店吗？", "什么是智慧城市？", "护照怎么续签？",
           "给我讲个笑话", "汉堡有多少人？", "联合国教科文组织是哪一年成立的？",
           "谁是教科文组织总干事？", "怎么申请出国留学奖学金？", "市政府几点上班？",
           "怎样成为一名老师？", "博物馆要门票吗？", "哪个城市的公共交通最好？",
           "健身房怎么办卡？", "个税申报截止日期是什么时候？", "明天北京天气怎么样？"],
}


def misspell(text: str, rng: random.Random) -> str:
    """Up to two words of four letters or more get one typo each (a letter dropped, swapped, replaced or
    doubled, never the first); text without such words loses a character now and then."""
    tokens = text.split()
    candidates = [n for n, word in enumerate(tokens) if len(word) >= 4 and word.isalpha()]
    if not candidates:
        if len(text) > 3 and not text.isascii() and rng.random() < 0.5:
            cut = rng.randrange(1, len(text))
            return text[:cut] + text[cut + 1 :]
        return text
    for n in rng.sample(candidates, min(2, len(candidates))):
        word = tokens[n]
        at = rng.randrange(1, len(word))
        edit = rng.randrange(4)
        if edit == 0:
            word = word[:at] + word[at + 1 :]
        elif edit == 1 and at < len(word) - 1:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif edit == 2:
            word = word[:at] + rng.choice("aeioumnrst") + word[at + 1 :]
        else:
            word = word[:at] + word[at] + word[at:]
        tokens[n] = word
    return " ".join(tokens)


def folds(faq: Faq) -> Iterator[tuple[Faq, list[tuple[str, str, str]]]]:
    """(the FAQ without one fifth of each topic's variants, those variants as (topic, language, text))."""
    for fold in range(FOLDS):
        entries = {}
        held: list[tuple[str, str, str]] = []
        for key, entry in faq.entries.items():
            kept = tuple(q for n, q in enumerate(entry.questions) if n % FOLDS != fold or n == 0)
            held += [(entry.id, entry.lang, q) for n, q in enumerate(entry.questions) if n % FOLDS == fold and n]
            entries[key] = dataclasses.replace(entry, questions=kept)
        yield dataclasses.replace(faq, entries=entries), held


CONTEXT: dict[str, dict[str, list[str]]] = yaml.safe_load(
    (Path(__file__).with_name("calibration_context.yaml")).read_text(encoding="utf-8"))


def seeded(seed: int, text: str) -> random.Random:
    """A random source of its own for each question, so that adding a variant to the FAQ does not change the
    context every other question is asked in (comparisons of two FAQ versions stay like for like)."""
    return random.Random(seed * 1_000_003 + zlib.crc32(text.encode()))


def in_context(text: str, lang: str, rng: random.Random) -> str:
    """`text` as the question of a longer message: one or two sentences about the asker before it, sometimes
    a greeting first and thanks after; a question without its question mark gets one."""
    context = CONTEXT[lang]
    sentences = [rng.choice(context["about"])]
    if rng.random() < 0.5:
        sentences.insert(rng.randrange(2), rng.choice(context["about"]))
    if rng.random() < 0.5:
        sentences.insert(0, rng.choice(context["openings"]))
    if text[-1:].isalnum():  # "membership fee" alone is a search; inside a message it is asked
        text += {"zh": "？", "ar": "؟"}.get(lang, "?")
    sentences.append(text)
    if rng.random() < 0.3:
        sentences.append(rng.choice(context["closings"]))
    return ("" if lang == "zh" else " ").join(sentences)


def cross_validate(faq: Faq, thresholds: Thresholds, seed: int = 5, contexts: tuple[bool, ...] = (False,)
                   ) -> dict[bool, dict[str, float]]:
    """For each of `contexts`, percentages: variants set aside answered right and wrong (an unrelated topic),
    out of scope answered. False: each asked as written and misspelt; True: inside a longer message
    (`in_context`). Each fold's index is built once for all of them."""
    rng = random.Random(seed)
    counts: dict[bool, Counter[str]] = {context: Counter() for context in contexts}
    for reduced, held in folds(faq):
        answerer = Answerer(reduced, thresholds=thresholds)
        for context in contexts:
            tally = counts[context]
            for topic, lang, text in held:
                for asked in ((in_context(text, lang, seeded(seed, text)),) if context else
                              (text, misspell(text, rng))):
                    answer = answerer.ask(Question(asked, telegram_lang=lang))
                    tally["asked"] += 1
                    if answer.kind is MatchKind.ANSWER and answer.faq_id:
                        if faq.answers_question_on(answer.faq_id, topic):
                            tally["right"] += 1
                        elif not faq.answers_question_on(topic, answer.faq_id):
                            tally["wrong"] += 1
            for lang, questions in OUT_OF_SCOPE.items():
                for text in questions:
                    tally["out of scope"] += 1
                    asked = in_context(text, lang, seeded(seed, text)) if context else text
                    tally["out of scope answered"] += answerer.ask(Question(asked, telegram_lang=lang)).kind is \
                        MatchKind.ANSWER
    return {context: {"right": 100 * tally["right"] / tally["asked"],
                      "wrong": 100 * tally["wrong"] / tally["asked"],
                      "out of scope answered": 100 * tally["out of scope answered"] / tally["out of scope"]}
            for context, tally in counts.items()}


def main() -> None:
    from bot.config import bundled
    from bot.storage.faq_files import read_faq

    faq = read_faq(Path(sys.argv[1]) if len(sys.argv) > 1 else bundled("faq"))
    for name, thresholds, contexts in (("words only (former thresholds)", WORDS_ONLY, (False,)),
                                       ("current thresholds", Thresholds(), (False, True))):
        for context, figures in cross_validate(faq, thresholds, contexts=contexts).items():
            label = "current, inside context" if context else name
            print(f"{label:32} " + "  ".join(f"{key} {value:5.2f} %" for key, value in figures.items()), flush=True)


if __name__ == "__main__":
    main()
