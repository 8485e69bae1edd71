using Quanta.Models.Architectures.Gemma;
using Quanta.Models.Architectures.Llama;
using Quanta.Models.Architectures.Phi3;
using Quanta.Models.Architectures.Qwen2;
using Quanta.Models.Architectures.Qwen3;

namespace Quanta.Models.Architectures;

/// <summary>
/// The one place that maps an architecture name (GGUF general.architecture or a Hugging Face config.json
/// "architectures" entry) to its <see cref="IArchitecture"/>. Adding a model family means adding one line here and
/// one file with its hooks. Unknown names throw <see cref="NotSupportedException"/> listing the supported names.
/// </summary>
public static class ArchitectureRegistry
{
    private static readonly IArchitecture[] s_all =
    [
        LlamaArchitecture.Instance,
        Qwen2Architecture.Instance,
        Qwen3Architecture.Instance,
        Phi3Architecture.Instance,
        Gemma2Architecture.Instance,
        Gemma3Architecture.Instance,
    ];

    private static readonly Dictionary<string, IArchitecture> s_gguf = Build(a => a.GgufNames);
    private static readonly Dictionary<string, IArchitecture> s_hf = Build(a => a.HuggingFaceNames);

    private static Dictionary<string, IArchitecture> Build(Func<IArchitecture, IReadOnlyList<string>> names)
    {
        var d = new Dictionary<string, IArchitecture>(StringComparer.Ordinal);
        foreach (var a in s_all)
            foreach (var n in names(a)) d.Add(n, a);
        return d;
    }

    /// <summary>Every registered architecture.</summary>
    public static IReadOnlyList<IArchitecture> All => s_all;

    /// <summary>Supported GGUF general.architecture values, sorted.</summary>
    public static IReadOnlyList<string> GgufNames { get; } = s_gguf.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Supported Hugging Face "architectures" values, sorted.</summary>
    public static IReadOnlyList<string> HuggingFaceNames { get; } = s_hf.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The architecture for a GGUF general.architecture value.</summary>
    public static IArchitecture ForGguf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return s_gguf.TryGetValue(name, out var a) ? a
            : throw new NotSupportedException($"GGUF architecture '{name}' is not supported (supported: {string.Join(", ", GgufNames)})");
    }

    /// <summary>The architecture for one of a config.json's "architectures" values (the first supported one wins).</summary>
    public static IArchitecture ForHuggingFace(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        foreach (var n in list)
            if (s_hf.TryGetValue(n, out var a)) return a;
        throw new NotSupportedException(
            $"Hugging Face architecture {(list.Count == 0 ? "(none given)" : string.Join(", ", list.Select(n => $"'{n}'")))} is not supported (supported: {string.Join(", ", HuggingFaceNames)})");
    }

    /// <summary>Looks up a GGUF architecture name without throwing.</summary>
    public static bool TryGetGguf(string name, out IArchitecture architecture) => s_gguf.TryGetValue(name, out architecture!);
}
