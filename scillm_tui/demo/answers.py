"""Text the demo backend says: made-up answers that echo the prompt, and a heuristic judge.

Nothing here is a language model. Answers are assembled from sentence templates around key
words of the prompt so a demo run looks plausible (and differs per request), and the judge
scores candidates with a small, visible rule so its verdict can be checked by eye:

    score = 1 + min(4, distinct_words // 20)
              + 1 if the text has two or more paragraphs
              + 1 if it has a bullet or numbered list
              + 1 if it has code (a backtick or an indented line)
              + 1 if it mentions a key word of the task, + 1 more if it mentions half of them
    clamped to 1..10; ties go to more distinct words, then to the earlier label.

Pure functions only (no I/O, no web framework), so they are easy to test on their own.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MIN_WORDS = 60
MAX_WORDS = 180

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each either else even ever every few for from
    further get gets getting give given go going got had hadn't has hasn't have haven't
    having he her here hers herself him himself his how however i i'd i'll i'm i've if in
    into is isn't it it's its itself just know let let's like make makes many may me might
    more most much must mustn't my myself need needs no nor not now of off often on once one
    only or other ought our ours ourselves out over own please quite rather really same say
    says see seem seems shall she should shouldn't show so some such tell than that that's
    the their theirs them themselves then there there's these they they're thing things
    this those though through thus to too under until up upon us use used using very via
    want was wasn't way we we're were weren't what what's when where which while who whom
    whose why will with within without won't would wouldn't yes yet you you'd you'll you're
    you've your yours yourself yourselves explain describe briefly short answer question
    write give tell list example examples best good better difference differences between
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Common verbs: fine inside a prompt, awkward as the subject of a canned sentence.
_VERB_TEXT = """
    add affect avoid build call change check choose compare compute configure convert create
    debug decide define deploy design detect do does fix handle happen help implement improve
    increase keep learn manage measure move optimise optimize prevent reduce run scale
    send set speed start stop store support test think try understand update work works
"""
_VERBS = frozenset(_VERB_TEXT.split())

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_+#.\-']*[A-Za-z0-9+#]|[A-Za-z]")
_QUOTED = re.compile(r"[\"“`']([^\"”`'\n]{3,40})[\"”`']")
_HEADER = re.compile(r"^=== Candidate ([A-Z]{1,2}) ===[ \t]*$")
_TASK_HEADER = "=== Task ==="


# ---- reading the request -----------------------------------------------------------------------


def message_text(content: Any) -> str:
    """The text of a chat message `content`: a string, or a list of `{"type": "text"}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def user_texts(messages: Iterable[Any]) -> list[str]:
    """Texts of the `user` messages, oldest first (anything malformed is skipped)."""
    return [
        message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]


def _words(text: str) -> list[str]:
    return [w.strip(".'-") for w in _WORD.findall(text)]


def _is_content_word(word: str) -> bool:
    lower = word.lower()
    return len(word) >= 3 and lower not in _STOPWORDS and lower not in _VERBS


def key_phrases(text: str, limit: int = 5) -> list[str]:
    """Up to `limit` phrases that say what `text` is about, in order of first appearance.

    Quoted phrases come first, then runs of two content words ("connection pooling"), then
    single content words, longer and repeated ones preferred. Good enough to make a canned
    answer sound on-topic; not meant to be clever.
    """
    found: dict[str, tuple[float, int, str]] = {}  # lower -> (weight, position, original)

    def add(phrase: str, weight: float, position: int) -> None:
        key = phrase.lower()
        if key in found:
            old_weight, old_pos, original = found[key]
            found[key] = (old_weight + weight / 2, min(old_pos, position), original)
        else:
            found[key] = (weight, position, phrase)

    for match in _QUOTED.finditer(text):
        phrase = match.group(1).strip()
        if any(_is_content_word(w) for w in _words(phrase)):
            add(phrase, 6.0, match.start())

    words = [(m.group(0).strip(".'-"), m.start()) for m in _WORD.finditer(text)]
    for (first, pos), (second, _) in itertools.pairwise(words):
        if _is_content_word(first) and _is_content_word(second):
            add(f"{first} {second}", 3.0 + (len(first) + len(second)) / 10, pos)
    for word, pos in words:
        if _is_content_word(word):
            bonus = 1.0 if word[:1].isupper() and pos > 0 else 0.0
            add(word, 1.0 + len(word) / 8 + bonus, pos)

    chosen: list[tuple[int, str]] = []
    for _key, (_weight, pos, original) in sorted(
        found.items(), key=lambda item: (-item[1][0], item[1][1])
    ):
        lower = original.lower()
        if any(lower in c.lower() or c.lower() in lower for _, c in chosen):
            continue
        chosen.append((pos, original))
        if len(chosen) >= limit:
            break
    return [phrase for _, phrase in sorted(chosen)]


# ---- made-up answers ---------------------------------------------------------------------------

_OPENERS = (
    "The short answer is that {topic} depends mostly on {aspect}.",
    "When people ask about {topic}, the useful starting point is {aspect}.",
    "{Topic} is easier to reason about once you separate {aspect} from {other}.",
    "A good way to think about {topic} is as a trade-off around {aspect}.",
    "In practice, {topic} comes down to a few concrete decisions, starting with {aspect}.",
    "There are two common views on {topic}, and both hinge on {aspect}.",
)
_DETAILS = (
    "The first thing to check is {aspect} under realistic load, not in a toy setup.",
    "It helps to write down what {aspect} should guarantee before tuning anything.",
    "{Aspect} and {other} tend to interact, so changing one usually moves the other.",
    "Most surprises come from treating {aspect} as free; measure it before relying on it.",
    "If the real bottleneck is {aspect}, improving {other} will not change much.",
    "A small experiment that varies only {aspect} usually tells you more than a long debate.",
    "Keep {aspect} simple at first and add complexity only where numbers justify it.",
    "Teams often document {aspect} next to {other} so the reasoning survives a handover.",
    "The cost of getting {aspect} wrong grows with scale, so it matters more for {topic} later.",
)
_CAVEATS = (
    "One caveat: the details of {aspect} vary between setups, so verify them in yours.",
    "Be careful with defaults around {aspect}; they are chosen for safety, not for speed.",
    "None of this replaces checking the documentation for {other}.",
    "Edge cases around {aspect} are where most bugs hide, so test those first.",
)
_CLOSERS = (
    "In summary, start from {aspect}, measure, and adjust {topic} in small steps.",
    "So the practical answer is: settle {aspect} first, then revisit {other}.",
    "That is usually enough to get {topic} working well; refine it as requirements grow.",
    "If you only remember one thing, make it the link between {aspect} and {other}.",
)
_BULLET_LEADS = (
    "A quick checklist:",
    "Things worth comparing:",
    "In short:",
)
_BULLETS = (
    "- {Aspect}: decide what it must guarantee.",
    "- {Aspect}: measure it before changing it.",
    "- {Aspect}: keep the default unless data says otherwise.",
    "- {Aspect}: write the assumption down next to the code.",
)
_FALLBACK_ASPECTS = (
    "the expected workload",
    "error handling",
    "the overall cost",
    "the main constraint",
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _identifier(phrase: str) -> str:
    ident = re.sub(r"[^0-9A-Za-z]+", "_", phrase.lower()).strip("_") or "value"
    return ident if not ident[0].isdigit() else f"x_{ident}"


def _fill(template: str, topic: str, aspect: str, other: str) -> str:
    return template.format(
        topic=topic,
        Topic=_cap(topic),
        aspect=aspect,
        Aspect=_cap(aspect),
        other=other,
    )


def word_count(text: str) -> int:
    """Whitespace-separated words, the unit of the demo's length limits."""
    return len(text.split())


def compose_answer(prompt: str, rng: random.Random) -> str:
    """A 60-180 word, 2-4 paragraph answer that reuses key phrases of `prompt`.

    `rng` decides every choice, so the same seed gives the same answer and different seeds
    give visibly different ones.
    """
    phrases = key_phrases(prompt) or ["your question"]
    topic = phrases[0]
    aspects = phrases[1:] + [a for a in _FALLBACK_ASPECTS if a not in phrases]
    weighted = phrases[1:] * 3 + aspects  # prefer the prompt's own words

    def pick_pair() -> tuple[str, str]:
        aspect = rng.choice(weighted)
        other = rng.choice([a for a in aspects if a != aspect])
        return aspect, other

    target = rng.randint(MIN_WORDS + 10, MAX_WORDS - 30)
    n_paragraphs = rng.randint(2, 4)
    per_paragraph = max(20, target // n_paragraphs)
    paragraphs: list[str] = []
    total = 0
    used_templates: set[str] = set()

    def build(first_pool: Sequence[str], pool: Sequence[str], last: bool) -> str:
        nonlocal total
        sentences: list[str] = []
        used = 0
        fresh_first = [t for t in first_pool if t not in used_templates] or list(first_pool)
        rest = [t for t in pool if t not in used_templates]
        rng.shuffle(rest)
        for template in [rng.choice(fresh_first), *rest]:
            sentence = _fill(template, topic, *pick_pair())
            n = word_count(sentence)
            if total + n > MAX_WORDS:
                break
            if sentences and used >= per_paragraph and (not last or total >= MIN_WORDS):
                break
            sentences.append(sentence)
            used_templates.add(template)
            used += n
            total += n
        return " ".join(sentences)

    paragraphs.append(build(_OPENERS, _DETAILS, last=False))
    for index in range(1, n_paragraphs):
        last = index == n_paragraphs - 1
        pool = _CLOSERS if last else (_DETAILS if rng.random() < 0.6 else _CAVEATS)
        rest = [t for t in (*_DETAILS, *_CAVEATS) if t not in pool]
        paragraph = build(pool, rest, last=last)
        if paragraph:
            paragraphs.append(paragraph)

    extras_budget = MAX_WORDS - total
    if rng.random() < 0.35 and extras_budget >= 25:
        lead = rng.choice(_BULLET_LEADS)
        items = [
            _fill(t, topic, a, topic)
            for t, a in zip(rng.sample(_BULLETS, 3), rng.sample(aspects, 3), strict=True)
        ]
        block = "\n".join([lead, *items])
        if word_count(block) <= extras_budget:
            paragraphs.insert(1, block)
            extras_budget -= word_count(block)
    if rng.random() < 0.25 and extras_budget >= 12:
        name = _identifier(topic)
        arg = _identifier(rng.choice(aspects))
        block = f"For example:\n\n    result = check_{name}({arg}, strict=True)"
        paragraphs.insert(len(paragraphs) - 1, block)
    return "\n\n".join(p for p in paragraphs if p)


_THOUGHTS = (
    "The user asks about {topic}. Let me work out what matters most here.",
    "First, what does {topic} depend on? Probably {aspect}, and maybe {other}.",
    "Hmm, wait: {aspect} and {other} pull in different directions, so I should compare them.",
    "An example would help; a short one that shows {aspect} in practice.",
    "Check the edge cases before answering: what if {other} is missing entirely?",
    "I think a structured answer works best: the idea, a list, then an example.",
)


def compose_thinking(prompt: str, rng: random.Random) -> str:
    """A made-up chain of thought (a few hundred characters) for the demo's thinking
    models: it reads like thinking, so the dashboard's thinking view has something to show."""
    phrases = key_phrases(prompt) or ["the question"]
    topic = phrases[0]
    aspect = phrases[1] if len(phrases) > 1 else "the trade-offs"
    other = phrases[2] if len(phrases) > 2 else "the context"
    lines = [_THOUGHTS[0], *rng.sample(_THOUGHTS[1:-1], 3), _THOUGHTS[-1]]
    return " ".join(line.format(topic=topic, aspect=aspect, other=other) for line in lines)


def stream_pieces(text: str) -> list[str]:
    """Split `text` into about-a-word pieces that join back to exactly `text`.

    Each piece carries the whitespace before its word (" word", "\\n\\nword"), the way model
    tokens usually do; these pieces are the demo's "tokens" for pacing and max_tokens.
    """
    return re.findall(r"\s*\S+|\s+$", text)


# ---- the demo judge ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateScore:
    """Why a candidate got its score: the inputs of the rule in the module docstring."""

    label: str
    score: int
    distinct_words: int
    paragraphs: int
    has_list: bool
    has_code: bool
    task_words_hit: int


def parse_candidates(text: str) -> list[tuple[str, str]]:
    """(label, text) pairs of the `=== Candidate X ===` blocks in a judge prompt.

    A block runs until the next line that starts with `===` (another candidate, or a marker
    such as `=== End of candidates ===`). Repeated labels keep their first block.
    """
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            current = []
            blocks.append((header.group(1), current))
        elif line.startswith("==="):
            current = None
        elif current is not None:
            current.append(line)
    seen: dict[str, str] = {}
    for label, lines in blocks:
        seen.setdefault(label, "\n".join(lines).strip())
    return list(seen.items())


def prompt_candidates(messages: Iterable[Any]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message that has `=== Candidate X ===` blocks, and its candidates.

    Normally the last message; a repair follow-up has none, so the original prompt is used.
    ("", []) when no message has any.
    """
    for text in reversed(user_texts(messages)):
        candidates = parse_candidates(text)
        if candidates:
            return text, candidates
    return "", []


def _task_text(text: str) -> str:
    lines = text.splitlines()
    if _TASK_HEADER not in lines:
        return ""
    start = lines.index(_TASK_HEADER) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("===")), len(lines))
    return "\n".join(lines[start:end])


def score_candidate(label: str, text: str, task_words: Sequence[str] = ()) -> CandidateScore:
    """Score one candidate 1..10 with the rule in the module docstring."""
    words = {w.lower() for w in _words(text)}
    paragraphs = len([p for p in re.split(r"\n\s*\n", text) if p.strip()])
    lines = text.splitlines()
    has_list = any(re.match(r"\s*([-*•]|\d+[.)])\s+\S", line) for line in lines)
    has_code = "`" in text or any(re.match(r"( {4}|\t)\S", line) for line in lines)
    lowered = text.lower()
    hits = sum(1 for w in task_words if w.lower() in lowered)
    score = 1 + min(4, len(words) // 20) + (paragraphs >= 2) + has_list + has_code
    if task_words:
        score += (hits >= 1) + (hits * 2 >= len(task_words))
    return CandidateScore(
        label=label,
        score=max(1, min(10, score)),
        distinct_words=len(words),
        paragraphs=paragraphs,
        has_list=has_list,
        has_code=has_code,
        task_words_hit=hits,
    )


def _why(best: CandidateScore, n_task_words: int) -> str:
    facts = [f"{best.distinct_words} distinct words"]
    facts.append(f"{best.paragraphs} paragraph{'s' if best.paragraphs != 1 else ''}")
    if best.has_list:
        facts.append("a list")
    if best.has_code:
        facts.append("code")
    if n_task_words:
        facts.append(f"{best.task_words_hit} of {n_task_words} task key words")
    listed = ", ".join(facts[:-1]) + f" and {facts[-1]}" if len(facts) > 1 else facts[0]
    return (
        f"Demo judge heuristic: Candidate {best.label} has the highest score "
        f"({best.score}/10) with {listed}."
    )


def judge_verdict(messages: Sequence[Any]) -> dict[str, Any]:
    """The demo judge's verdict for a chat request, as a JSON-ready dict.

    Candidates are read from the last user message that has any (`prompt_candidates`).
    """
    text, candidates = prompt_candidates(messages)
    if not candidates:
        return {
            "best_id": None,
            "reason": "Demo judge: no '=== Candidate X ===' blocks were found, so there is "
            "nothing to compare.",
            "scores": {},
        }
    task_words = key_phrases(_task_text(text), limit=6)
    task_words = [w for phrase in task_words for w in phrase.split()][:6]
    scored = [score_candidate(label, body, task_words) for label, body in candidates]
    order = {label: i for i, (label, _) in enumerate(candidates)}
    best = min(scored, key=lambda s: (-s.score, -s.distinct_words, order[s.label]))
    return {
        "best_id": best.label,
        "reason": _why(best, len(task_words)),
        "scores": {s.label: s.score for s in scored},
    }


def judge_answer(messages: Sequence[Any]) -> str:
    """`judge_verdict` as the compact JSON text the demo judge replies with."""
    return json.dumps(judge_verdict(messages), ensure_ascii=False)
