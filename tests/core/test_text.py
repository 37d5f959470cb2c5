"""Text normalisation: a user's message and an FAQ question written differently must fold to the same tokens."""

from __future__ import annotations

import pytest

from bot.core.text import Analyzer, clauses, fold, is_question, sentences, words

EN_STOPWORDS = frozenset({"the", "of", "a", "is", "what", "how", "do", "does", "it", "my", "can", "i"})
ZH_STOPWORDS = frozenset({"的", "是", "什么", "吗", "请问", "我"})


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("Éducation permanente", "education permanente"),
        ("adhésion à l'UNESCO", "adhesion a l'unesco"),
        ("Ação, coração", "acao, coracao"),
        ("Año Niño", "ano nino"),
        ("Über Größe", "uber grosse"),
    ],
)
def test_accents_and_case_vanish(typed: str, plain: str) -> None:
    assert fold(typed) == plain


def test_full_width_letters_and_digits_become_ascii() -> None:
    assert fold("ＧＮＬＣ ２０２４") == "gnlc 2024"


def test_ligatures_are_unfolded() -> None:
    assert fold("ﬁnance") == "finance"
    assert fold("cœur") == fold("coeur")


def test_sharp_s_is_written_ss() -> None:
    assert fold("Straße") == fold("STRASSE") == "strasse"


def test_russian_yo_is_folded_to_ye() -> None:
    assert fold("Учёба") == fold("учеба")


def test_arabic_tatweel_and_harakat_vanish() -> None:
    assert fold("مَدِيـــنَة") == fold("مدينة")
    assert fold("التَّعَلُّمِ") == fold("التعلم")


@pytest.mark.parametrize("alef", ["أ", "إ", "آ", "ٱ"])
def test_arabic_alef_with_hamza_or_madda_is_plain_alef(alef: str) -> None:
    assert fold(f"{alef}هلا") == fold("اهلا")


def test_arabic_ta_marbuta_and_final_ha_match() -> None:
    assert fold("مدينة") == fold("مدينه")


def test_an_arabic_hamza_whose_seat_was_not_typed_matches_the_seated_one() -> None:
    assert fold("الفواءد") == fold("الفوائد") == fold("الفوايد")  # benefits
    assert fold("جزء") == "جزء"  # at the end of a word, a hamza on the line is as written


def test_arabic_alef_maqsura_and_ya_match() -> None:
    assert fold("على") == fold("علي")


def test_arabic_indic_digits_become_ascii_digits() -> None:
    assert fold("٢٠١٣") == "2013"


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("學習", "学习"), ("網絡", "网络"), ("會員", "会员"), ("獎", "奖"), ("費", "费"), ("聯絡", "联络")],
)
def test_common_traditional_chinese_characters_become_simplified(traditional: str, simplified: str) -> None:
    assert fold(traditional) == simplified


def test_simplified_chinese_is_left_as_it_is() -> None:
    assert fold("学习型城市") == "学习型城市"


def test_punctuation_and_emoji_vanish_from_words() -> None:
    assert words(fold("Hello, world!!! 😀🎉 (really?) — «yes»")) == ["hello", "world", "really", "yes"]


def test_a_message_of_emoji_and_punctuation_has_no_words() -> None:
    assert words(fold("🙂👍 ?!… 🎉")) == []


def test_underscores_and_apostrophes_separate_words() -> None:
    assert words(fold("qu'est-ce que_c'est")) == ["qu", "est", "ce", "que", "c", "est"]


def test_chinese_is_split_into_character_bigrams() -> None:
    analyzer = Analyzer("zh", ZH_STOPWORDS)
    assert analyzer.tokens("学习型城市") == ["学习", "习型", "型城", "城市"]


def test_chinese_stop_words_cut_runs_so_no_bigram_spans_them() -> None:
    analyzer = Analyzer("zh", ZH_STOPWORDS)
    tokens = analyzer.tokens("什么是学习型城市的网络？")
    assert tokens == ["学习", "习型", "型城", "城市", "网络"]
    assert not any("的" in token or "是" in token for token in tokens)


def test_a_single_chinese_character_left_between_stop_words_is_kept() -> None:
    assert Analyzer("zh", ZH_STOPWORDS).tokens("我的城") == ["城"]


def test_chinese_punctuation_splits_runs() -> None:
    analyzer = Analyzer("zh", ZH_STOPWORDS)
    assert analyzer.tokens("城市，网络") == ["城市", "网络"]


def test_traditional_chinese_message_gives_the_tokens_of_its_simplified_form() -> None:
    analyzer = Analyzer("zh", ZH_STOPWORDS)
    assert analyzer.tokens("學習網絡") == analyzer.tokens("学习网络")


def test_spaced_languages_drop_stop_words_and_stem() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS)
    assert analyzer.tokens("What is the joining of cities?") == analyzer.tokens("join city")


def test_a_one_letter_word_is_ignored_but_a_number_is_kept() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS)
    assert analyzer.tokens("x 4 2013") == ["4", "2013"]


def test_stop_words_are_matched_after_folding() -> None:
    analyzer = Analyzer("fr", frozenset({"à", "être"}))
    assert analyzer.tokens("A ETRE À être") == []


def test_a_synonym_phrase_becomes_one_canonical_token() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, [["gnlc", "global network of learning cities"]])
    assert analyzer.tokens("Global Network of Learning Cities") == ["~gnlc"]
    assert analyzer.tokens("the GNLC") == ["~gnlc"]


def test_a_phrase_with_a_one_letter_word_matches_as_messages_are_read() -> None:
    # Messages drop one-letter words ("master's" is "master" + "s"); phrases must too, or never match.
    analyzer = Analyzer("en", EN_STOPWORDS, [["email", "e-mail"]], outside=["master's degree"])
    assert analyzer.tokens("my e-mail") == analyzer.tokens("my email")
    assert "~!outside" in analyzer.tokens("How do I get a master's degree?")


def test_every_member_of_a_synonym_group_gives_the_same_token() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, [["fee", "cost", "membership fee", "price"]])
    found = {analyzer.tokens(member)[-1] for member in ("fee", "costs", "membership fee", "the price")}
    assert len(found) == 1
    assert found.pop().startswith("~")


def test_synonyms_are_found_inside_a_longer_message() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, [["gnlc", "global network of learning cities"]])
    tokens = analyzer.tokens("How can my city join the global network of learning cities?")
    assert "~gnlc" in tokens
    assert "network" not in tokens and "learn" not in tokens


def test_a_multi_word_canonical_phrase_keeps_its_words_beside_the_canonical_token() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, [["learning city award", "unesco learning city award"]])
    short, long = analyzer.tokens("learning city award"), analyzer.tokens("UNESCO Learning City Award")
    canonical = [token for token in short if token.startswith("~")]
    assert len(canonical) == 1
    assert canonical[0] in long
    assert analyzer.stem("award") in short  # still shares "award" with "award winners"


def test_accented_and_unaccented_synonyms_meet() -> None:
    analyzer = Analyzer("fr", frozenset({"la", "de"}), [["ville apprenante", "cité apprenante"]])
    canonical = [token for token in analyzer.tokens("ville apprenante") if token.startswith("~")]
    assert len(canonical) == 1
    assert canonical[0] in analyzer.tokens("CITE APPRENANTE")
    assert canonical[0] in analyzer.tokens("Villes apprenantes")


def test_a_chinese_synonym_phrase_is_not_cut_into_bigrams() -> None:
    analyzer = Analyzer("zh", ZH_STOPWORDS, [["gnlc", "全球学习型城市网络", "学习型城市网络"]])
    assert analyzer.tokens("什么是全球学习型城市网络？") == ["~gnlc"]
    assert analyzer.tokens("學習型城市網絡是什麼") == ["~gnlc"]
    assert analyzer.tokens("GNLC") == ["~gnlc"]


def test_sentences_split_at_end_punctuation_and_new_lines() -> None:
    assert sentences("Hello. How do I join? Thanks!\nBye") == ["Hello.", "How do I join?", "Thanks!", "Bye"]


def test_sentences_split_chinese_and_arabic_punctuation() -> None:
    assert sentences("你好。我想加入！") == ["你好。", "我想加入！"]
    assert sentences("مرحبا، كيف أنضم؟") == ["مرحبا", "كيف أنضم؟"]


def test_a_short_opening_before_a_comma_is_split_off_but_other_commas_are_not() -> None:
    assert sentences("Hi, how do I join?") == ["Hi", "how do I join?"]
    assert sentences("I keep hearing about learning cities, what are they?") == [
        "I keep hearing about learning cities, what are they?"]


def test_a_colon_before_a_question_ends_a_sentence_but_other_colons_do_not() -> None:
    assert sentences("Before I write my article: what is the network for?") == [
        "Before I write my article:", "what is the network for?"]
    assert sentences("我想先问清楚：要交会费吗？") == ["我想先问清楚：", "要交会费吗？"]
    assert sentences("Email: learningcities@unesco.org") == ["Email: learningcities@unesco.org"]
    assert sentences("Is it at 10:30?") == ["Is it at 10:30?"]


def test_sentences_of_blank_text_are_none() -> None:
    assert sentences("") == []
    assert sentences("  \n\n ") == []


def test_one_sentence_without_punctuation_is_the_whole_text() -> None:
    assert sentences("membership fee") == ["membership fee"]


@pytest.mark.parametrize(("typed", "plain"), [("holaaa", "hola"), ("Merciiii !", "merci !"), ("شكرااا", "شكرا"),
                                              ("спасибооо", "спасибо"), ("1000 cities", "1000 cities")])
def test_a_letter_stretched_for_emphasis_is_written_once(typed: str, plain: str) -> None:
    assert fold(typed) == plain


def test_clauses_keep_an_opening_apart_from_its_sentence_for_the_caller_to_judge() -> None:
    assert clauses("Hi, how do I join? Thanks") == [("Hi", "how do I join?"), ("Thanks",)]
    assert sentences("Hi, how do I join? Thanks") == ["Hi", "how do I join?", "Thanks"]


@pytest.mark.parametrize(("sentence", "asks"), [("How do I join?", True), ("كيف أنضم؟", True), ("怎么加入？", True),
                                                ("I work for a city.", False), ("membership fee", False)])
def test_a_sentence_asks_when_it_ends_with_a_question_mark_of_any_script(sentence: str, asks: bool) -> None:
    assert is_question(sentence) is asks


def test_words_the_stemmer_merges_stay_apart_when_synonym_groups_set_them_apart() -> None:
    """Russian "как" (how) and "какие" (which) share the stem "как"; listed in two groups, they keep apart."""
    analyzer = Analyzer("ru", synonyms=[["как", "каким образом"], ["какой", "какие", "какая"]])
    assert analyzer.tokens("как") != analyzer.tokens("какие")
    assert analyzer.tokens("какие") == analyzer.tokens("какой") == analyzer.tokens("какая")
    assert Analyzer("ru").tokens("как") == Analyzer("ru").tokens("какие")  # the stemmer alone merges them


def test_an_arabic_one_letter_preposition_is_read_off_when_the_faq_uses_the_word_without_it() -> None:
    analyzer = Analyzer("ar", synonyms=[["لماذا", "ليش"]])
    before = analyzer.stems("لمدينتنا")
    analyzer.learn(["مدينتنا عضو", "مدينتنا في الشبكة", "كيف تنضم مدينتنا", "لماذا"])
    assert before != analyzer.stems("لمدينتنا") == analyzer.stems("مدينتنا")
    assert analyzer.tokens("لماذا") == analyzer.tokens("ليش")  # a word a synonym group names stays as written


def test_a_typo_correction_score_survives_the_synonym_it_becomes() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, synonyms=[["fee", "membership fee"]])
    assert analyzer.merge_with(["membership", "fee", "join"], [1.0, 0.75, 1.0]) == [("~fee", 0.75), ("join", 1.0)]


def test_the_words_a_phrase_takes_are_known() -> None:
    analyzer = Analyzer("en", EN_STOPWORDS, synonyms=[["gnlc", "global network of learning cities"]])
    stems = analyzer.stems("join the global network of learning cities")
    assert analyzer.in_phrases(stems) == set(range(1, len(stems)))
