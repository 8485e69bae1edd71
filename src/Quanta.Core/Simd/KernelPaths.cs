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

    [ThreadStatic] private static Dictionary<string, SimdPath>? t_scope;

    /// <summary>
    /// Starts recording, on the calling thread only, the paths of the kernels it runs from now until the returned scope
    /// is disposed (in addition to the process-wide record). A test that asserts dispatch decisions uses a scope so that
    /// other tests running at the same time — some of which call a particular path directly — cannot change what it sees.
    /// </summary>
    public static Scope BeginThreadScope()
    {
        Enabled = true;
        t_scope = new Dictionary<string, SimdPath>(StringComparer.Ordinal);
        return new Scope(t_scope);
    }

    /// <summary>What one thread recorded; see <see cref="BeginThreadScope"/>.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly Dictionary<string, SimdPath> _seen;

        internal Scope(Dictionary<string, SimdPath> seen) => _seen = seen;

        /// <summary>Kernel name to widest path recorded on this thread while the scope was open.</summary>
        public IReadOnlyDictionary<string, SimdPath> Snapshot() => new Dictionary<string, SimdPath>(_seen, StringComparer.Ordinal);

        /// <summary>Stops recording into this scope.</summary>
        public void Dispose()
        {
            if (ReferenceEquals(t_scope, _seen)) t_scope = null;
        }
    }

    /// <summary>Turns recording on or off. Tests switch it on; production never does.</summary>
    public static bool Enabled { get; set; }

    /// <summary>Notes that <paramref name="kernel"/> ran on <paramref name="path"/> (widest path wins if several).</summary>
    public static void Record(string kernel, SimdPath path)
    {
        if (!Enabled) return;
        if (t_scope is { } scope)
            scope[kernel] = scope.TryGetValue(kernel, out var old) && old > path ? old : path;
        s_seen.AddOrUpdate(kernel, static (_, p) => p, static (_, old, p) => (SimdPath)Math.Max((int)old, (int)p), path);
    }

    /// <summary>Snapshot of what ran since the last <see cref="Clear"/>: kernel name to widest path.</summary>
    public static IReadOnlyDictionary<string, SimdPath> Snapshot() => new Dictionary<string, SimdPath>(s_seen, StringComparer.Ordinal);

    /// <summary>Forgets everything recorded.</summary>
    public static void Clear() => s_seen.Clear();
}
