using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>
/// What the CPU twin takes from a measurement run on this machine (all measured in the same run as the engine timings
/// it is compared with).
/// </summary>
/// <param name="ReadBytesPerSecond">Memory read bandwidth over the run's threads (Quanta.Core.Diagnostics.MemoryBandwidth).</param>
/// <param name="MatmulOpsPerSecond">Rate of the model's weight-matrix dot kernels on cache-resident data, in ops/s
/// (2 per multiply-add), over the run's threads: the CPU's "tensor throughput" for the model's quantization.</param>
/// <param name="Fp32OpsPerSecond">Rate of the FP32 dot kernel on cache-resident data, ops/s (attention math).</param>
/// <param name="Threads">Threads the engine and the probes used.</param>
public sealed record CpuMeasurements(double ReadBytesPerSecond, double MatmulOpsPerSecond, double Fp32OpsPerSecond, int Threads)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless every rate is positive and finite.</summary>
    public void Validate()
    {
        foreach (double v in (double[])[ReadBytesPerSecond, MatmulOpsPerSecond, Fp32OpsPerSecond])
            if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentException($"CPU measurements must be positive and finite, got {v}");
        if (Threads < 1) throw new ArgumentException($"threads must be at least 1, got {Threads}");
    }
}

/// <summary>Mean time to first token and mean time per output token (after the first) of one wave of requests.</summary>
/// <param name="TtftSeconds">Mean over the wave's requests of first-token time minus submit time.</param>
/// <param name="TpotSeconds">Mean over the requests of (last-token time − first-token time) / (output − 1).</param>
/// <param name="Steps">Engine steps the wave took.</param>
public sealed record ServeWaveEstimate(double TtftSeconds, double TpotSeconds, int Steps);

/// <summary>
/// The CPU twin: this machine's CPU as a device of the performance model, built from a measurement run
/// (<see cref="CpuMeasurements"/>), and the engine's benchmark and serving workloads costed step by step with
/// <see cref="RooflineModel.Step(double, double, double, bool, double)"/>:
/// <list type="bullet">
/// <item>pp (llama-bench): a prompt of n tokens from an empty cache in micro-batches of <c>chunk</c> tokens, each chunk
/// computing the logits of its last token only;</item>
/// <item>tg: n tokens decoded one at a time, token k attending to depth + k + 1 positions;</item>
/// <item>a serve wave: <c>streams</c> requests of P prompt and O output tokens submitted together to the engine's
/// continuous-batching scheduler, replayed with its documented policy (each step within a token budget: one decode
/// token per running sequence that has a sampled token, then prefill chunks of running sequences, then admission of
/// waiting ones up to the running limit, all in arrival order).</item>
/// </list>
/// Weight bytes are the model file's (mixed quantization types: <see cref="RooflineModel.WeightBytesOverride"/>); matrix
/// math runs at the measured dot-kernel rate, attention at the measured FP32 rate. The CPU's efficiency parameters
/// (bandwidth fraction, compute fractions, per-step overhead) are fitted on measurements and stored in
/// Catalog/efficiency-cpu.json; the machine's figures themselves come from the same run.
/// </summary>
public static class CpuTwin
{
    /// <summary>The CPU as a device: measured bandwidth, dot-kernel rate (as its INT8 figure), FP32 rate; no FP16/FP8 units.</summary>
    public static DeviceSpec Device(CpuMeasurements m, double memoryBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(m);
        m.Validate();
        const string src = "measured in this run (quanta plan twin)";
        Figure F(double? v, string text) => new(v, text, src);
        Figure None(string text) => new(null, text, src);
        return new DeviceSpec("cpu-twin", $"this machine's CPU ({m.Threads} threads)", "measured", ["cpu-twin"], "cpu", "host memory", "measured", "",
            F(memoryBytes > 0 ? memoryBytes / 1e9 : null, "host memory"),
            F(m.ReadBytesPerSecond / 1e12, "read bandwidth"),
            None("no FP16 tensor unit"), None("no FP8 unit"),
            F(m.MatmulOpsPerSecond / 1e12, "weight dot-kernel rate"), None("int4 runs on the int8 dot kernel"), None("n/a"),
            F(m.Fp32OpsPerSecond / 1e12, "FP32 dot rate"), None("not measured"), None("not measured"), None("none"), None("not priced"));
    }

    /// <summary>The fitted CPU efficiency parameters (built-in Catalog/efficiency-cpu.json).</summary>
    public static EfficiencyParameters BuiltInEfficiency() =>
        EfficiencyParameters.Parse(CatalogJson.BuiltIn("efficiency-cpu.json"), "built-in efficiency-cpu.json");

    /// <summary>
    /// The performance model of <paramref name="model"/> on the measured CPU: one device, weights of
    /// <paramref name="weightBytes"/> bytes (the file's tensors; the token-embedding table counts only when the output
    /// head is tied to it), KV cache at <paramref name="kv"/>.
    /// </summary>
    public static RooflineModel Roofline(ModelSpec model, double weightBytes, Precision kv, CpuMeasurements m, EfficiencyParameters eff)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(weightBytes > 0)) throw new ArgumentException($"weight bytes must be positive, got {weightBytes}");
        return new RooflineModel(model, Device(m), Precision.Int8, kv, 1, eff) { WeightBytesOverride = weightBytes };
    }

    /// <summary>Seconds to prefill <paramref name="tokens"/> prompt tokens from an empty cache in micro-batches of <paramref name="chunk"/>.</summary>
    public static double PrefillSeconds(RooflineModel r, int tokens, int chunk)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (tokens < 1 || chunk < 1) throw new ArgumentException("tokens and chunk must be at least 1");
        double s = 0;
        for (int start = 0; start < tokens; start += chunk)
        {
            int c = Math.Min(chunk, tokens - start);
            s += r.Step(c, start, PairsOf(start, c), prefill: true, logitsRows: 1).Seconds;
        }
        return s;
    }

    /// <summary>pp tokens/s: <paramref name="tokens"/> / <see cref="PrefillSeconds"/>.</summary>
    public static double PrefillTokensPerSecond(RooflineModel r, int tokens, int chunk) => tokens / PrefillSeconds(r, tokens, chunk);

    /// <summary>Seconds to decode <paramref name="tokens"/> tokens one at a time after <paramref name="depth"/> cached positions.</summary>
    public static double DecodeSeconds(RooflineModel r, int tokens, int depth = 0)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (tokens < 1 || depth < 0) throw new ArgumentException("tokens must be at least 1 and depth non-negative");
        double s = 0;
        for (int k = 0; k < tokens; k++) s += r.Step(1, depth + k, depth + k + 1, prefill: false, logitsRows: 1).Seconds;
        return s;
    }

    /// <summary>tg tokens/s: <paramref name="tokens"/> / <see cref="DecodeSeconds"/>.</summary>
    public static double DecodeTokensPerSecond(RooflineModel r, int tokens, int depth = 0) => tokens / DecodeSeconds(r, tokens, depth);

    /// <summary>
    /// One wave of <paramref name="streams"/> requests (<paramref name="prompt"/> prompt tokens, <paramref name="output"/>
    /// output tokens each) submitted together to a scheduler with a budget of <paramref name="maxBatchTokens"/> tokens
    /// per step and at most <paramref name="maxRunning"/> running sequences (see the type's summary).
    /// </summary>
    public static ServeWaveEstimate ServeWave(RooflineModel r, int streams, int prompt, int output, int maxBatchTokens, int maxRunning)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (streams < 1 || prompt < 1 || output < 1 || maxBatchTokens < 1 || maxRunning < 1)
            throw new ArgumentException("streams, prompt, output, token budget and running limit must be at least 1");
        var computed = new int[streams];
        var generated = new int[streams];
        var first = new double[streams];
        var last = new double[streams];
        var running = new List<int>();
        int nextWaiting = 0, done = 0, steps = 0;
        double t = 0;
        var work = new List<(int Seq, int Start, int Count, bool Logits)>();
        while (done < streams)
        {
            work.Clear();
            int budget = maxBatchTokens;
            foreach (int s in running)   // (1) decodes
            {
                if (budget == 0) break;
                if (generated[s] > 0 && prompt + generated[s] - computed[s] == 1) { work.Add((s, computed[s], 1, true)); budget--; }
            }
            foreach (int s in running)   // (2) prefill chunks of running sequences
            {
                if (budget == 0) break;
                if (computed[s] < prompt && !work.Exists(w => w.Seq == s))
                {
                    int c = Math.Min(prompt - computed[s], budget);
                    work.Add((s, computed[s], c, computed[s] + c == prompt));
                    budget -= c;
                }
            }
            while (budget > 0 && running.Count < maxRunning && nextWaiting < streams)   // (3) admission
            {
                int s = nextWaiting++;
                running.Add(s);
                int c = Math.Min(prompt, budget);
                work.Add((s, 0, c, c == prompt));
                budget -= c;
            }
            double tokens = 0, kvRead = 0, pairs = 0, logits = 0;
            bool anyPrefill = false;
            foreach (var w in work)
            {
                tokens += w.Count;
                kvRead += w.Start;
                pairs += PairsOf(w.Start, w.Count);
                if (w.Logits) logits++;
                if (generated[w.Seq] == 0) anyPrefill = true;
            }
            t += r.Step(tokens, kvRead, pairs, anyPrefill, logits).Seconds;
            steps++;
            foreach (var w in work)
            {
                computed[w.Seq] += w.Count;
                if (!w.Logits) continue;
                generated[w.Seq]++;
                if (generated[w.Seq] == 1) first[w.Seq] = t;
                last[w.Seq] = t;
                if (generated[w.Seq] == output) { running.Remove(w.Seq); done++; }
            }
        }
        double tpot = output > 1 ? Enumerable.Range(0, streams).Average(s => (last[s] - first[s]) / (output - 1)) : 0;
        return new ServeWaveEstimate(first.Average(), tpot, steps);
    }

    /// <summary>Sum over <paramref name="count"/> new tokens at positions start.. of the positions each attends to (itself included).</summary>
    public static double PairsOf(double start, double count) => count * start + count * (count + 1) / 2;
}
