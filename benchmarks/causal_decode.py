"""causal_conv1d against the three-op pattern it replaces (concat + depthwise conv + slice) on torch
and under jax.jit: a decode step (L = 1) and a long piece; medians of interleaved runs, in µs.
Run: python benchmarks/causal_decode.py (writes benchmarks/causal_decode.json)."""
import os, time, statistics, json
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, torch, jax, jax.numpy as jnp
import torch.nn.functional as F
import xpconv
torch.set_num_threads(2)

def bench(fns, repeats=200, inner=20):
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(inner):
                r = f()
            if hasattr(r[0], "block_until_ready"):
                r[0].block_until_ready()
            times[k].append((time.perf_counter() - t) / inner)
    return {k: statistics.median(v) * 1e6 for k, v in times.items()}

out = {}
for n, c, k, L in [(1, 4096, 4, 1), (8, 2048, 4, 1), (1, 1024, 4, 2048)]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, L)).astype(np.float32); w = rng.standard_normal((c, 1, k)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32); s = rng.standard_normal((n, c, k - 1)).astype(np.float32)
    tx, tw, tb, ts = map(torch.from_numpy, (x, w, b, s))
    def t_pattern():
        j = torch.cat([ts, tx], 2); return F.conv1d(j, tw, tb, groups=c), j[:, :, -(k - 1):]
    def t_ours():
        return xpconv.causal_conv1d(tx, tw, tb, ts)
    jx, jw, jb, js = map(jnp.asarray, (x, w, b, s))
    def pattern(x, w, b, s):
        j = jnp.concatenate([s, x], 2)
        y = jax.lax.conv_general_dilated(j, w, (1,), "VALID", feature_group_count=c) + b[:, None]
        return y, j[:, :, -(k - 1):]
    jp = jax.jit(pattern); jo = jax.jit(lambda x, w, b, s: xpconv.causal_conv1d(x, w, b, s))
    jp(jx, jw, jb, js)[0].block_until_ready(); jo(jx, jw, jb, js)[0].block_until_ready()
    np.testing.assert_allclose(np.asarray(jp(jx, jw, jb, js)[0]), np.asarray(jo(jx, jw, jb, js)[0]), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(t_pattern()[0].numpy(), t_ours()[0].numpy(), rtol=1e-4, atol=1e-4)
    reps = 60 if L > 1 else 200
    r = bench({"torch concat+conv+slice": t_pattern, "torch xpconv": t_ours,
               "jax jit concat+conv+slice": lambda: jp(jx, jw, jb, js), "jax jit xpconv": lambda: jo(jx, jw, jb, js)},
              repeats=reps, inner=5 if L > 1 else 20)
    key = f"N={n} C={c} k={k} L={L}"
    out[key] = r
    print(key, {a: round(v, 1) for a, v in r.items()},
          "torch ratio %.2f" % (r["torch xpconv"] / r["torch concat+conv+slice"]),
          "jax ratio %.2f" % (r["jax jit xpconv"] / r["jax jit concat+conv+slice"]))
json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "causal_decode.json"), "w"), indent=1)
