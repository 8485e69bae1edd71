using System.Collections.Concurrent;

namespace Quanta.Core.Simd;

/// <summary>
/// Records which SIMD path each kernel actually ran, so tests can assert that a run with
/// DOTNET_EnableAVX512=0 (and the other switches) really took the narrower paths.
/// Recording is off unless <see cref="Enabled"/> is set; when off it costs one static bool read per
/// kernel call (not per element). Kernels call <see cref="Record"/> at their dispatch point.
/// </summary>
public static class KernelPaths
{
    private static readonly ConcurrentDictionary<string, SimdPath> s_seen = new(StringComparer.Ordinal);

    /// <summary>Turns recording on or off. Tests switch it on; production never does.</summary>
    public static bool Enabled { get; set; }

    /// <summary>Notes that <paramref name="kernel"/> ran on <paramref name="path"/> (widest path wins if several).</summary>
    public static void Record(string kernel, SimdPath path)
    {
        if (!Enabled) return;
        s_seen.AddOrUpdate(kernel, static (_, p) => p, static (_, old, p) => (SimdPath)Math.Max((int)old, (int)p), path);
    }

    /// <summary>Snapshot of what ran since the last <see cref="Clear"/>: kernel name to widest path.</summary>
    public static IReadOnlyDictionary<string, SimdPath> Snapshot() => new Dictionary<string, SimdPath>(s_seen, StringComparer.Ordinal);

    /// <summary>Forgets everything recorded.</summary>
    public static void Clear() => s_seen.Clear();
}
