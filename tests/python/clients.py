"""The official Python clients against a running Turnpike gateway.

Run by tests/src/e2e/python-clients.e2e.ts in a venv holding the pinned `openai` and
`openrouter` packages (tests/python/requirements.txt). Reads one JSON argument:

    {"url": "<gateway>", "key": "<api key>", "cases": {"<name>": {"prompt", "tokens", "expected"}}}

where each case's `expected` is the simulator's deterministic reply to `prompt`. Any response a
client rejects raises, and so does any value that differs from what the platform must answer:
the script then exits non-zero with the traceback. On success it prints one JSON line,
`RESULT {...}`, with the generation ids and costs the clients saw, for the caller to check
against the platform's own records.
"""

import json
import sys
import time

import openai
import openrouter
from openrouter import errors as or_errors
from openrouter import utils as or_utils

CFG = json.loads(sys.argv[1])
URL = CFG["url"]
KEY = CFG["key"]
CASES = CFG["cases"]
SMALL = "turnpike/sim-small"
NO_RETRIES = or_utils.RetryConfig("none", None, False)
result = {"versions": {"openai": openai.__version__, "openrouter": openrouter.__version__}}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def equal(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def step(name):
    print(f"  python: {name}", flush=True)


def user(case):
    return [{"role": "user", "content": CASES[case]["prompt"]}]


# --- openai -----------------------------------------------------------------------------------

oa = openai.OpenAI(base_url=f"{URL}/v1", api_key=KEY, max_retries=0)

step("openai models.list")
models = oa.models.list()
ids = [m.id for m in models.data]
check(SMALL in ids and "turnpike/sim-large" in ids, f"models.list ids: {ids}")
small = next(m for m in models.data if m.id == SMALL)
equal(small.object, "model", "model object")
equal(small.owned_by, "turnpike", "owned_by")
equal((small.model_extra or {}).get("context_length"), 8192, "context_length (extra field)")

step('openai models.retrieve("turnpike/sim-large")')
large = oa.models.retrieve("turnpike/sim-large")
equal(large.id, "turnpike/sim-large", "retrieve id")
equal(large.owned_by, "turnpike", "retrieve owned_by")
equal((large.model_extra or {}).get("context_length"), 128000, "retrieve context_length")
try:
    oa.models.retrieve("turnpike/no-such-model")
    raise AssertionError("retrieving an unknown model succeeded")
except openai.NotFoundError as e:
    equal(e.status_code, 404, "unknown model status")
    equal(e.code, "model_not_found", "unknown model code")

step("openai chat, unary")
c = CASES["oa_unary"]
done = oa.chat.completions.create(model=SMALL, messages=user("oa_unary"))
equal(done.model, SMALL, "unary model")
equal(done.choices[0].message.content, c["expected"], "unary content")
equal(done.choices[0].finish_reason, "stop", "unary finish_reason")
equal(done.usage.completion_tokens, c["tokens"], "unary completion_tokens")
cost = (done.usage.model_extra or {}).get("cost")
check(isinstance(cost, float) and cost > 0, f"unary usage.cost: {cost!r}")
result["oa_unary"] = {"id": done.id, "cost": cost, "prompt_tokens": done.usage.prompt_tokens}

step("openai chat, streamed with include_usage")
c = CASES["oa_stream"]
chunks = list(
    oa.chat.completions.create(
        model=SMALL,
        messages=user("oa_stream"),
        stream=True,
        stream_options={"include_usage": True},
    )
)
check(len(chunks) >= c["tokens"] + 1, f"{len(chunks)} chunks")
text = "".join((ch.choices[0].delta.content or "") for ch in chunks if ch.choices)
equal(text, c["expected"], "streamed content")
for ch in chunks[:-1]:
    equal(ch.usage, None, "usage on a non-final chunk")
last = chunks[-1]
equal(last.choices, [], "final chunk choices")
equal(last.usage.completion_tokens, c["tokens"], "streamed completion_tokens")
cost = (last.usage.model_extra or {}).get("cost")
check(isinstance(cost, float) and cost > 0, f"streamed usage.cost: {cost!r}")
equal(len({ch.id for ch in chunks}), 1, "one generation id across chunks")
result["oa_stream"] = {"id": last.id, "cost": cost, "prompt_tokens": last.usage.prompt_tokens}

# --- openrouter (PyPI) ------------------------------------------------------------------------

orc = openrouter.OpenRouter(api_key=KEY, server_url=f"{URL}/api/v1")

step("openrouter models.list / count / get")
page = orc.models.list()
listed = [m.id for m in page.result.data]
check(SMALL in listed, f"openrouter models.list ids: {listed}")
equal(page.result.total_count, len(listed), "total_count")
or_small = next(m for m in page.result.data if m.id == SMALL)
equal(or_small.context_length, 8192, "openrouter context_length")
equal(or_small.pricing.prompt, "0.00000015", "openrouter prompt price")
equal(or_small.pricing.completion, "0.0000006", "openrouter completion price")
equal(orc.models.count().data.count, len(listed), "models.count")
got = orc.models.get(author="turnpike", slug="sim-large").data
equal(got.id, "turnpike/sim-large", "models.get id")
equal(got.context_length, 128000, "models.get context_length")
eps = orc.endpoints.list(author="turnpike", slug="sim-multi").data
equal(sorted(e.tag for e in eps.endpoints), ["sim", "sim-b", "sim-c"], "endpoints tags")

step("openrouter chat.send, unary")
c = CASES["or_unary"]
res = orc.chat.send(model=SMALL, messages=user("or_unary"), retries=NO_RETRIES)
equal(res.model, SMALL, "openrouter unary model")
equal(res.choices[0].message.content, c["expected"], "openrouter unary content")
equal(res.usage.completion_tokens, c["tokens"], "openrouter unary completion_tokens")
check(isinstance(res.usage.cost, float) and res.usage.cost > 0, f"cost {res.usage.cost!r}")
result["or_unary"] = {"id": res.id, "cost": res.usage.cost, "prompt_tokens": res.usage.prompt_tokens}

step("openrouter chat.send, streamed with usage")
c = CASES["or_stream"]
events = list(
    orc.chat.send(
        model=SMALL,
        messages=user("or_stream"),
        stream=True,
        stream_options={"include_usage": True},
        retries=NO_RETRIES,
    )
)
text = "".join((e.choices[0].delta.content or "") for e in events if e.choices)
equal(text, c["expected"], "openrouter streamed content")
usage = events[-1].usage
equal(usage.completion_tokens, c["tokens"], "openrouter streamed completion_tokens")
check(isinstance(usage.cost, float) and usage.cost > 0, f"streamed cost {usage.cost!r}")
result["or_stream"] = {"id": events[-1].id, "cost": usage.cost, "prompt_tokens": usage.prompt_tokens}

step("openrouter generations.get_generation (polled: billing books usage asynchronously)")
gen = None
deadline = time.monotonic() + 15
while gen is None:
    try:
        gen = orc.generations.get_generation(id=res.id).data
    except or_errors.NotFoundResponseError:
        check(time.monotonic() < deadline, f"generation {res.id} never appeared")
        time.sleep(0.2)
equal(gen.id, res.id, "generation id")
equal(gen.model, SMALL, "generation model")
equal(gen.total_cost, res.usage.cost, "generation total_cost")
equal(gen.tokens_completion, CASES["or_unary"]["tokens"], "generation tokens_completion")

step("openrouter api_keys.get_current_key_metadata, credits.get_credits")
key = orc.api_keys.get_current_key_metadata().data
check(isinstance(key.label, str) and key.label, f"key label {key.label!r}")
check(key.usage >= 0, f"key usage {key.usage!r}")
result["key"] = {"label": key.label, "usage": key.usage}
credits = orc.credits.get_credits().data
check(credits.total_credits > 0, f"total_credits {credits.total_credits!r}")
result["credits"] = {"total_credits": credits.total_credits, "total_usage": credits.total_usage}

step("openrouter typed errors: unknown model, bad key")
try:
    orc.chat.send(model="turnpike/no-such-model", messages=[{"role": "user", "content": "x"}],
                  retries=NO_RETRIES)
    raise AssertionError("an unknown model succeeded")
except or_errors.NotFoundResponseError as e:
    equal(e.data.error.code, 404, "openrouter 404 error.code")
    check("turnpike/no-such-model" in e.data.error.message, e.data.error.message)
bad = openrouter.OpenRouter(api_key="sk-tp-v1-not-a-real-key", server_url=f"{URL}/api/v1")
try:
    bad.api_keys.get_current_key_metadata()
    raise AssertionError("a bad key was accepted")
except or_errors.UnauthorizedResponseError as e:
    equal(e.data.error.code, 401, "openrouter 401 error.code")

print("RESULT " + json.dumps(result), flush=True)
