"""Python LiteLLM against the loopback upstream, for the ratio in docs/benchmarks.md.

Raw httpx (one shared AsyncClient, json in and out) versus LiteLLM's
`Router.acompletion` (one deployment, settings left at LiteLLM's defaults), both calling
`POST /v1/chat/completions` on 127.0.0.1:PORT one call at a time, interleaved in rounds after
a warm-up. Prints one JSON line: per arm the latency quantiles in microseconds and the CPU
time of this process per call.

Run by the Rust `e2e` binary when `target/pylitellm` exists:

    python3 -m venv target/pylitellm
    target/pylitellm/bin/pip install litellm==1.110.2 httpx
    target/pylitellm/bin/python perf/py/bench_litellm.py --port PORT
"""

import argparse
import asyncio
import json
import os
import time

# No network: the shipped price map instead of the remote one, no telemetry.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

import httpx  # noqa: E402
import litellm  # noqa: E402

MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000000000000000"


def quantiles(samples_ns):
    s = sorted(samples_ns)
    n = len(s)

    def q(p):
        return s[min(n - 1, int(p * n))] / 1000.0

    return {
        "n": n,
        "mean_us": sum(s) / n / 1000.0,
        "p50_us": q(0.50),
        "p99_us": q(0.99),
        "p999_us": q(0.999),
        "max_us": s[-1] / 1000.0,
    }


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    base = f"http://127.0.0.1:{args.port}/v1"
    client = httpx.AsyncClient(timeout=60.0)
    router = litellm.Router(
        model_list=[
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": f"openai/{MODEL}",
                    "api_base": base,
                    "api_key": KEY,
                },
            }
        ]
    )
    headers = {"Authorization": f"Bearer {KEY}"}

    async def raw(i):
        r = await client.post(
            f"{base}/chat/completions",
            json={
                "model": MODEL,
                "messages": [
                    {"role": "user", "content": f"Say hello to benchmark caller number {i}"}
                ],
            },
            headers=headers,
        )
        r.raise_for_status()
        return r.json()["choices"][0]["message"]["content"]

    async def router_call(i):
        resp = await router.acompletion(
            model=MODEL,
            messages=[{"role": "user", "content": f"Say hello to benchmark caller number {i}"}],
        )
        return resp.choices[0].message.content

    arms = {"httpx": raw, "litellm_router": router_call}
    seq = 0
    for fn in arms.values():
        for _ in range(args.warmup):
            seq += 1
            assert await fn(seq)
    samples = {k: [] for k in arms}
    cpu = {k: 0 for k in arms}
    for _ in range(args.rounds):
        for name, fn in arms.items():
            c0 = time.process_time_ns()
            for _ in range(args.batch):
                seq += 1
                t0 = time.perf_counter_ns()
                text = await fn(seq)
                samples[name].append(time.perf_counter_ns() - t0)
                assert text
            cpu[name] += time.process_time_ns() - c0
    out = {
        name: dict(quantiles(samples[name]), cpu_us=cpu[name] / len(samples[name]) / 1000.0)
        for name in arms
    }
    out["versions"] = {
        "litellm": getattr(litellm, "version", None) or _version("litellm"),
        "httpx": httpx.__version__,
    }
    await client.aclose()
    print(json.dumps(out))


def _version(pkg):
    try:
        from importlib.metadata import version

        return version(pkg)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    asyncio.run(main())
