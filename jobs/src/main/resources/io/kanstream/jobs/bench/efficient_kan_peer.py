#!/usr/bin/env python3
"""efficient-kan's algorithm on PyTorch, timed the way kanstream's model bench times its learner.

`kanstream bench` starts this script and talks to it over stdin/stdout, one JSON object per
line each way, so that the peer is measured in the same run, on the same shapes, batches,
parameters and data, in rounds interleaved with the Java learner's. Nothing here is
kanstream's: the network is efficient-kan's KAN (docs/KAN.md) -- B-spline bases by the
Cox-de Boor recursion over the knot grid, a SiLU base branch, the spline branch scaled per
edge by spline_scaler -- trained the way an efficient-kan user trains it: forward, MSE loss,
autograd backward, torch.optim.Adam. Scoring runs under torch.inference_mode().

Requests (each answered by one line; a failure answers {"error": "..."}):
  {"op": "model", "layers": [8, 16, 1], "order": 3, "learning_rate": 0.01, "batch": 32,
   "pool": 64, "rows": FILE, "labels": FILE, "parameters": [{"grid": [...],
   "base_weight": [...], "spline_weight": [...], "spline_scaler": [...]}, ...]}
      builds the network from the given parameters (flat, row-major, efficient-kan's
      shapes) and reads the pool of batches (raw little-endian float32, (pool, batch, in)
      and (pool, batch)); answers {"outputs": [...]}, the network's outputs for the first
      batch, which the bench compares with kanstream's
  {"op": "warmup", "seconds": 0.6}     runs both workloads untimed
  {"op": "round", "workload": "train" | "score", "seconds": 0.5}
      calls one workload until that much wall time passed; answers {"calls": n}
  {"op": "timings"}   what the rounds so far measured, per workload
  {"op": "reference", "weights": NPZ, "input": CSV, "output": CSV}
      scores the rows of the input CSV with an efficient-kan state_dict; answers
      {"rows": [...], "n": n, "outputs": [...], "expected": [...]}: the rows as read, its
      outputs, and the outputs the output CSV holds

On start it prints {"ready": true, ...} or, when torch cannot be imported,
{"ready": false, "reason": "..."} and exits.
"""

import json
import math
import resource
import sys
import time


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    try:
        import numpy
        import torch
    except Exception as e:  # ImportError, or a broken install failing while loading
        reply({"ready": False, "reason": "python3 cannot import numpy and torch: %s" % e})
        return
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    peer = Peer(torch, numpy)
    reply(
        {
            "ready": True,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply(peer.handle(json.loads(line)))
        except Exception as e:
            reply({"error": "%s: %s" % (type(e).__name__, e)})


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def define_network(torch):
    functional = torch.nn.functional

    class KanLayer(torch.nn.Module):
        """y = silu(x) Wb^T + flatten(B(x)) flatten(C * S[..., None])^T, for x of shape (n, in)."""

        def __init__(self, grid, base_weight, spline_weight, spline_scaler, order):
            super().__init__()
            self.order = order
            self.out_features = base_weight.shape[0]
            self.register_buffer("grid", grid)  # (in, G + 2k + 1)
            self.base_weight = torch.nn.Parameter(base_weight)  # (out, in)
            self.spline_weight = torch.nn.Parameter(spline_weight)  # (out, in, G + k)
            self.spline_scaler = torch.nn.Parameter(spline_scaler)  # (out, in)

        def bases(self, x):
            """(n, in, G + k): order 0 is the indicator of the knot span, then Cox-de Boor."""
            t = self.grid
            v = x.unsqueeze(-1)
            b = ((v >= t[:, :-1]) & (v < t[:, 1:])).to(x.dtype)
            for p in range(1, self.order + 1):
                # B_p[j] = (x - t_j) / (t_(j+p) - t_j) B_(p-1)[j]
                #        + (t_(j+p+1) - x) / (t_(j+p+1) - t_(j+1)) B_(p-1)[j+1]
                t_j = t[:, : -(p + 1)]
                t_jp = t[:, p:-1]
                t_j1 = t[:, 1:-p]
                t_jp1 = t[:, p + 1 :]
                b = (v - t_j) / (t_jp - t_j) * b[..., :-1] + (t_jp1 - v) / (t_jp1 - t_j1) * b[..., 1:]
            return b

        def forward(self, x):
            n = x.shape[0]
            scaled = self.spline_weight * self.spline_scaler.unsqueeze(-1)
            return functional.linear(functional.silu(x), self.base_weight) + functional.linear(
                self.bases(x).reshape(n, -1), scaled.reshape(self.out_features, -1)
            )

    class Kan(torch.nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return KanLayer, Kan


class Timer:
    """Per-call wall latency, and wall and thread-CPU time over whole rounds, accumulated."""

    def __init__(self, samples_per_call):
        self.samples_per_call = samples_per_call
        self.latencies = []
        self.wall_ns = 0
        self.cpu_ns = 0
        self.faults = 0

    def run(self, workload, seconds):
        faults = minor_faults()
        cpu = time.thread_time_ns()
        start = time.perf_counter_ns()
        deadline = start + int(seconds * 1e9)
        now = start
        calls = 0
        while True:
            before = now
            workload(len(self.latencies))
            now = time.perf_counter_ns()
            self.latencies.append(now - before)
            calls += 1
            if now >= deadline:
                break
        self.wall_ns += now - start
        self.cpu_ns += time.thread_time_ns() - cpu
        self.faults += minor_faults() - faults
        return calls

    def timing(self):
        calls = len(self.latencies)
        if calls == 0:
            raise ValueError("no calls were timed")
        ordered = sorted(self.latencies)
        samples = calls * self.samples_per_call
        return {
            "calls": calls,
            "samples": samples,
            "samples_per_second": samples / (self.wall_ns / 1e9),
            "cpu_samples_per_second": samples / (max(self.cpu_ns, 1) / 1e9),
            "p50_ms": percentile(ordered, 0.50) / 1e6,
            "p99_ms": percentile(ordered, 0.99) / 1e6,
            "wall_seconds": self.wall_ns / 1e9,
            "cpu_seconds": self.cpu_ns / 1e9,
            "minor_faults_per_call": self.faults / calls,
        }


def percentile(ordered, fraction):
    """Nearest rank, as the Java side computes it."""
    rank = int(math.ceil(fraction * len(ordered)))
    return ordered[max(0, min(len(ordered) - 1, rank - 1))]


def minor_faults():
    try:
        return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    except (AttributeError, OSError):
        return 0


class Peer:
    def __init__(self, torch, numpy):
        self.torch = torch
        self.numpy = numpy
        self.layer_class, self.network_class = define_network(torch)
        self.workloads = {}
        self.timers = {}
        self.sink = 0.0

    def handle(self, request):
        op = request.get("op")
        if op == "model":
            return self.model(request)
        if op == "warmup":
            for workload in self.workloads.values():
                Timer(1).run(workload, float(request["seconds"]))
            return {"ok": True}
        if op == "round":
            name = request["workload"]
            if name not in self.workloads:
                raise ValueError("no workload %r; send a model first" % name)
            return {"calls": self.timers[name].run(self.workloads[name], float(request["seconds"]))}
        if op == "timings":
            return {name: timer.timing() for name, timer in self.timers.items()}
        if op == "reference":
            return self.reference(request)
        raise ValueError("unknown op %r" % op)

    def tensor(self, values, shape):
        return self.torch.tensor(values, dtype=self.torch.float32).reshape(shape)

    def model(self, request):
        torch = self.torch
        widths = request["layers"]
        order = int(request["order"])
        batch = int(request["batch"])
        pool = int(request["pool"])
        layers = []
        for p, (n_in, n_out) in zip(request["parameters"], zip(widths, widths[1:])):
            knots = len(p["grid"]) // n_in
            coefficients = knots - order - 1
            layers.append(
                self.layer_class(
                    self.tensor(p["grid"], (n_in, knots)),
                    self.tensor(p["base_weight"], (n_out, n_in)),
                    self.tensor(p["spline_weight"], (n_out, n_in, coefficients)),
                    self.tensor(p["spline_scaler"], (n_out, n_in)),
                    order,
                )
            )
        if len(layers) != len(widths) - 1:
            raise ValueError("%d layers of parameters for widths %s" % (len(layers), widths))
        network = self.network_class(layers)
        rows = self.numpy.fromfile(request["rows"], dtype="<f4")
        labels = self.numpy.fromfile(request["labels"], dtype="<f4")
        if rows.size != pool * batch * widths[0] or labels.size != pool * batch:
            raise ValueError("the pool files do not hold %d batches of %d rows" % (pool, batch))
        xs = [torch.from_numpy(r.copy()) for r in rows.reshape(pool, batch, widths[0])]
        ys = [torch.from_numpy(y.copy()).reshape(batch, 1) for y in labels.reshape(pool, batch)]
        optimizer = torch.optim.Adam(network.parameters(), lr=float(request["learning_rate"]))
        loss_function = torch.nn.MSELoss()

        def train(call):
            optimizer.zero_grad()
            loss = loss_function(network(xs[call % pool]), ys[call % pool])
            loss.backward()
            optimizer.step()

        def score(call):
            with torch.inference_mode():
                self.sink += network(xs[call % pool])[0, 0].item()

        with torch.inference_mode():
            outputs = network(xs[0]).reshape(-1).tolist()
        self.workloads = {"train": train, "score": score}
        self.timers = {name: Timer(batch) for name in self.workloads}
        return {"outputs": outputs}

    def reference(self, request):
        torch = self.torch
        weights = self.numpy.load(request["weights"])
        rows = self.numpy.loadtxt(request["input"], delimiter=",", dtype="float32", ndmin=2)
        expected = self.numpy.loadtxt(request["output"], delimiter=",", dtype="float32", ndmin=2)
        layers = []
        index = 0
        while "layers.%d.grid" % index in weights:
            prefix = "layers.%d." % index
            grid = torch.from_numpy(weights[prefix + "grid"].astype("float32"))
            coefficients = weights[prefix + "spline_weight"].shape[2]
            order = grid.shape[1] - 1 - coefficients
            layers.append(
                self.layer_class(
                    grid,
                    torch.from_numpy(weights[prefix + "base_weight"].astype("float32")),
                    torch.from_numpy(weights[prefix + "spline_weight"].astype("float32")),
                    torch.from_numpy(weights[prefix + "spline_scaler"].astype("float32")),
                    order,
                )
            )
            index += 1
        if not layers:
            raise ValueError("%s has no layers.0.grid" % request["weights"])
        with torch.inference_mode():
            outputs = self.network_class(layers)(torch.from_numpy(rows))
        return {
            "rows": rows.reshape(-1).tolist(),
            "n": int(rows.shape[0]),
            "outputs": outputs.reshape(-1).tolist(),
            "expected": expected.reshape(-1).tolist(),
        }


if __name__ == "__main__":
    main()
