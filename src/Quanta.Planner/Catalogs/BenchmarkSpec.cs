namespace Quanta.Planner.Catalogs;

/// <summary>
/// A standard benchmark workload (MLPerf task): which catalog model it runs, mean input/output tokens per sample,
/// beam width, the precision submissions usually use, and its latency limits. Every figure cites <see cref="Source"/>.
/// </summary>
public sealed record BenchmarkSpec(string Id, string Model, string Source, double InputTokens = 0, double OutputTokens = 0,
    string Precision = "fp16", int Beams = 1, double? TtftLimitS = null, double? TpotLimitS = null, double? E2eLimitS = null, double? LatencyLimitS = null,
    string? PrecisionOnFp4Devices = null);

/// <summary>The built-in benchmarks.json.</summary>
public static class BenchmarkCatalog
{
    private sealed record FileShape(string? Format, IReadOnlyList<BenchmarkSpec>? Benchmarks);

    private static readonly Lazy<IReadOnlyList<BenchmarkSpec>> All = new(() =>
        CatalogJson.Parse<FileShape>(CatalogJson.BuiltIn("benchmarks.json"), "built-in benchmarks.json").Benchmarks
        ?? throw new InvalidDataException("built-in benchmarks.json: no benchmarks"));

    /// <summary>All benchmarks.</summary>
    public static IReadOnlyList<BenchmarkSpec> Benchmarks => All.Value;

    /// <summary>
    /// The benchmark an MLPerf benchmark name refers to: "llama2-70b-99.9" -> llama2-70b (accuracy suffixes ignored);
    /// null when none.
    /// </summary>
    public static BenchmarkSpec? Find(string name)
    {
        string k = CatalogJson.Key(name);
        return All.Value.Where(b => k.StartsWith(CatalogJson.Key(b.Id), StringComparison.Ordinal))
            .OrderByDescending(b => b.Id.Length).FirstOrDefault();
    }
}
