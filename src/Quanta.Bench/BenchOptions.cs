using System.Globalization;
using Quanta.Models.KvCache;

namespace Quanta.Bench;

/// <summary>One llama-bench test: a prompt of <paramref name="NPrompt"/> tokens in one batch, then <paramref name="NGen"/>
/// tokens one at a time, after <paramref name="Depth"/> tokens already in the KV cache (filled untimed).</summary>
public sealed record BenchTest(int NPrompt, int NGen, int Depth)
{
    /// <summary>llama-bench's name: "pp512", "tg128", "pp512+tg128", with " @ dN" when N tokens are cached first.</summary>
    public string Name
    {
        get
        {
            string n = NPrompt > 0 && NGen > 0 ? $"pp{NPrompt}+tg{NGen}" : NPrompt > 0 ? $"pp{NPrompt}" : $"tg{NGen}";
            return Depth > 0 ? string.Create(CultureInfo.InvariantCulture, $"{n} @ d{Depth}") : n;
        }
    }

    /// <summary>True for a pure generation test (the one judged against the bandwidth bound).</summary>
    public bool IsGeneration => NPrompt == 0 && NGen > 0;

    /// <summary>Tokens timed (t/s is this over the time).</summary>
    public int TimedTokens => NPrompt + NGen;
}

/// <summary>Options of a benchmark run (llama-bench's -p, -n, -r, -t, -d, -pg, -ctk/-ctv).</summary>
public sealed record BenchOptions
{
    /// <summary>Prompt tokens of the pp test; 0 skips it.</summary>
    public int Prompt { get; init; } = 512;

    /// <summary>Generated tokens of the tg test; 0 skips it.</summary>
    public int Gen { get; init; } = 128;

    /// <summary>Timed repetitions of each test (untimed warm-ups run first, see <see cref="MaxWarmUps"/>).</summary>
    public int Repetitions { get; init; } = 5;

    /// <summary>Most untimed warm-up runs before a test's timed repetitions. After the first, another runs while the
    /// previous one made the JIT compile methods: a .NET process reaches its optimised code only once the runtime has
    /// re-compiled the hot methods in the background, and one warm-up left the first timed repetition of a short test
    /// (160M tg128, 0.4 s) up to 13% slower than the later ones. 1 gives llama-bench's single warm-up.</summary>
    public int MaxWarmUps { get; init; } = 3;

    /// <summary>Threads (forward pass and bandwidth measurement).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Tokens put in the KV cache before each timed test.</summary>
    public int Depth { get; init; }

    /// <summary>The pg test (prompt then generation); null skips it.</summary>
    public (int Prompt, int Gen)? PromptGen { get; init; }

    /// <summary>KV cache element type (llama-bench default f16).</summary>
    public KvCacheType KvType { get; init; } = KvCacheType.F16;

    /// <summary>Micro-batch size of prompt processing (llama-bench n_ubatch).</summary>
    public int MicroBatch { get; init; } = 512;

    /// <summary>Seconds of each read-bandwidth measurement around a tg test; 0 skips the measurement.</summary>
    public double BandwidthSeconds { get; init; } = 2.0;

    /// <summary>Relative difference between the two bandwidth readings above which a tg test is rerun.</summary>
    public double BandwidthTolerance { get; init; } = 0.10;

    /// <summary>Most runs of a tg test while the readings disagree (then it is reported flagged).</summary>
    public int MaxBandwidthAttempts { get; init; } = 3;

    /// <summary>Seed of the random token ids.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>The tests in llama-bench's order: pp, tg, pg.</summary>
    public IReadOnlyList<BenchTest> Tests()
    {
        var list = new List<BenchTest>();
        if (Prompt > 0) list.Add(new BenchTest(Prompt, 0, Depth));
        if (Gen > 0) list.Add(new BenchTest(0, Gen, Depth));
        if (PromptGen is { } pg) list.Add(new BenchTest(pg.Prompt, pg.Gen, Depth));
        return list;
    }

    /// <summary>KV positions the longest test needs.</summary>
    public int ContextNeeded => Depth + Math.Max(Math.Max(Prompt, Gen), PromptGen is { } pg ? pg.Prompt + pg.Gen : 0);

    /// <summary>Throws <see cref="ArgumentException"/> on a value out of range.</summary>
    public void Validate()
    {
        if (Prompt < 0 || Gen < 0 || Depth < 0) throw new ArgumentException("-p, -n and -d must not be negative");
        if (Repetitions < 1) throw new ArgumentException($"-r must be at least 1, got {Repetitions}");
        if (Threads < 1) throw new ArgumentException($"-t must be at least 1, got {Threads}");
        if (MaxWarmUps < 1) throw new ArgumentException($"at least one warm-up run, got {MaxWarmUps}");
        if (PromptGen is { } pg && (pg.Prompt < 0 || pg.Gen < 0 || pg.Prompt + pg.Gen == 0)) throw new ArgumentException("--pg needs PROMPT,GEN with a positive sum");
        if (Tests().Count == 0) throw new ArgumentException("nothing to run: -p and -n are 0 and no --pg");
        if (BandwidthSeconds < 0) throw new ArgumentException("bandwidth seconds must not be negative");
    }

    /// <summary>Parses llama-bench's "-pg 512,128" form.</summary>
    public static (int Prompt, int Gen) ParsePromptGen(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int p)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new ArgumentException($"--pg takes PROMPT,GEN (e.g. 512,128), got '{text}'");
        return (p, n);
    }

    /// <summary>Parses "f16" / "f32" / "q8_0" (any case).</summary>
    public static KvCacheType ParseKvType(string text) =>
        KvCacheTypes.TryParse(text) ?? throw new ArgumentException($"cache type must be f16, f32 or q8_0, got '{text}'");
}
