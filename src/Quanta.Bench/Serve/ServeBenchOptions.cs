using System.Globalization;

namespace Quanta.Bench.Serve;

/// <summary>
/// Settings of an online serving benchmark (vLLM's `vllm bench serve` options): <see cref="NumPrompts"/> random-token
/// requests of <see cref="InputLen"/> prompt tokens and <see cref="OutputLen"/> max tokens sent to
/// {<see cref="BaseUrl"/>}/v1/completions, arriving at <see cref="RequestRate"/> per second (infinity: all at once),
/// Poisson when <see cref="Burstiness"/> is 1 and gamma otherwise, at most <see cref="MaxConcurrency"/> in flight.
/// </summary>
public sealed class ServeBenchOptions
{
    /// <summary>Server root, e.g. http://127.0.0.1:8000 (the endpoint /v1/completions is appended).</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>Model id sent in each request.</summary>
    public required string Model { get; init; }

    /// <summary>Measured requests.</summary>
    public int NumPrompts { get; init; } = 1000;

    /// <summary>Requests per second; <see cref="double.PositiveInfinity"/> sends all at once.</summary>
    public double RequestRate { get; init; } = double.PositiveInfinity;

    /// <summary>Gamma shape of the inter-arrival gaps (1: Poisson; below 1 burstier, above 1 more uniform).</summary>
    public double Burstiness { get; init; } = 1.0;

    /// <summary>Most requests in flight at once; null: unbounded.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Prompt tokens per request (random token ids).</summary>
    public int InputLen { get; init; } = 1024;

    /// <summary>max_tokens per request.</summary>
    public int OutputLen { get; init; } = 128;

    /// <summary>Exclusive upper bound of the random prompt token ids (they start at 3, past the usual specials).</summary>
    public int VocabSize { get; init; } = 500;

    /// <summary>Ask the server to ignore EOS (sent only when the server accepts the field).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Seed of the prompts and arrival gaps.</summary>
    public int Seed { get; init; }

    /// <summary>Unmeasured requests sent first (one at a time).</summary>
    public int NumWarmups { get; init; }

    /// <summary>Service-level objectives for goodput; an empty set: goodput is not computed.</summary>
    public ServeSlo Goodput { get; init; } = new();

    /// <summary>Per-request timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Throws <see cref="ArgumentException"/> on an out-of-range setting.</summary>
    public void Validate()
    {
        if (NumPrompts < 1) throw new ArgumentException("--num-prompts must be at least 1");
        if (!(RequestRate > 0)) throw new ArgumentException("--request-rate must be positive or inf");
        if (!(Burstiness > 0) || double.IsInfinity(Burstiness)) throw new ArgumentException("--burstiness must be positive");
        if (MaxConcurrency is < 1) throw new ArgumentException("--max-concurrency must be at least 1");
        if (InputLen < 1) throw new ArgumentException("--random-input-len must be at least 1");
        if (OutputLen < 1) throw new ArgumentException("--random-output-len must be at least 1");
        if (VocabSize < 4) throw new ArgumentException("--random-vocab-size must be at least 4");
        if (NumWarmups < 0) throw new ArgumentException("--num-warmups must be non-negative");
    }

    /// <summary>Parses "inf" or a positive number of requests per second.</summary>
    public static double ParseRate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("inf", StringComparison.OrdinalIgnoreCase)) return double.PositiveInfinity;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r > 0) return r;
        throw new ArgumentException($"--request-rate takes 'inf' or a positive number, got '{text}'");
    }
}

/// <summary>Service-level objectives in milliseconds (vLLM's --goodput ttft:MS tpot:MS e2el:MS); null: not constrained.</summary>
public sealed record ServeSlo(double? TtftMs = null, double? TpotMs = null, double? E2elMs = null)
{
    /// <summary>True when at least one objective is set.</summary>
    public bool Any => TtftMs is not null || TpotMs is not null || E2elMs is not null;

    /// <summary>Parses "KEY:MS" pairs with keys ttft, tpot and e2el.</summary>
    public static ServeSlo Parse(IEnumerable<string> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var slo = new ServeSlo();
        foreach (string pair in pairs)
        {
            string[] kv = pair.Split(':', 2);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || !(ms >= 0))
                throw new ArgumentException($"--goodput takes KEY:MS pairs (ttft, tpot, e2el), got '{pair}'");
            slo = kv[0].Trim().ToUpperInvariant() switch
            {
                "TTFT" => slo with { TtftMs = ms },
                "TPOT" => slo with { TpotMs = ms },
                "E2EL" => slo with { E2elMs = ms },
                _ => throw new ArgumentException($"--goodput key must be ttft, tpot or e2el, got '{kv[0]}'"),
            };
        }
        return slo;
    }

    /// <summary>True when the request meets every set objective.</summary>
    public bool IsMetBy(ServeRequestOutcome r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (TtftMs is double t && r.Ttft * 1000 > t) return false;
        if (TpotMs is double p && r.Tpot * 1000 > p) return false;
        if (E2elMs is double e && r.E2el * 1000 > e) return false;
        return true;
    }
}
