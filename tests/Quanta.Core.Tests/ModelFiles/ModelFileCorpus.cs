using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Core.Tests.ModelFiles;

/// <summary>
/// The fuzz corpus: small valid files produced by this project's writers, committed under
/// tests/Quanta.Core.Tests/ModelFiles/Corpus. <see cref="Generate"/> is deterministic; a test checks the
/// committed files still equal it (set QUANTA_REGENERATE_CORPUS=1 to rewrite them).
/// </summary>
internal static class ModelFileCorpus
{
    public static readonly Llama2cConfig TinyConfig = new(Dim: 8, HiddenDim: 12, NLayers: 1, NHeads: 2, NKvHeads: 1, VocabSize: 6, SeqLen: 4, SharedClassifier: true);

    public static readonly string[] TinyPieces = ["<unk>", "\n<s>\n", "\n</s>\n", " a", "é", "ab"];
    public static readonly float[] TinyScores = [0f, 0f, 0f, -1.5f, -2f, -3.25f];

    public static byte[] Pattern(int n, int salt)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(i * 7 + salt * 31 + 1);
        return b;
    }

    /// <summary>GGUF v3 with every metadata type (including nested arrays) and four tensor types.</summary>
    public static GgufWriter AllTypesGguf()
    {
        var w = new GgufWriter(3);
        w.Add("general.architecture", "llama");
        w.Add("t.u8", (byte)200).Add("t.i8", (sbyte)-100).Add("t.u16", (ushort)60000).Add("t.i16", (short)-30000)
         .Add("t.u32", 4_000_000_000u).Add("t.i32", -2_000_000_000).Add("t.f32", 1.5f).Add("t.bool", true)
         .Add("t.string", "héllo ✓").Add("t.u64", ulong.MaxValue - 1).Add("t.i64", long.MinValue + 1).Add("t.f64", -2.25);
        w.AddArray<byte>("a.u8", [1, 2, 255]).AddArray<sbyte>("a.i8", [-1, 0, 1]).AddArray<ushort>("a.u16", [65535])
         .AddArray<short>("a.i16", [-2, 2]).AddArray<uint>("a.u32", [7, 8, 9]).AddArray<int>("a.i32", [-7])
         .AddArray<float>("a.f32", [0.5f, -0.25f]).AddArray<bool>("a.bool", [true, false, true])
         .AddArray<string>("a.string", ["x", "", "ü"]).AddArray<ulong>("a.u64", [1UL << 40]).AddArray<long>("a.i64", [-(1L << 40)])
         .AddArray<double>("a.f64", [Math.PI]);
        w.AddArray<GgufArray>("a.nested", [GgufArray.Create<int>([1, 2]), GgufArray.Create<string>(["a"]), GgufArray.Create<GgufArray>([GgufArray.Create<byte>([9])])]);
        w.AddTensor("w.f32", GgmlType.F32, [4, 2], Pattern(32, 1));
        w.AddTensor("w.f16", GgmlType.F16, [8], Pattern(16, 2));
        w.AddTensor("w.q4_0", GgmlType.Q4_0, [32, 2], Pattern(36, 3));
        w.AddTensor("w.i8", GgmlType.I8, [3], Pattern(3, 4));
        return w;
    }

    /// <summary>GGUF v2 with general.alignment 64 and two tensors.</summary>
    public static GgufWriter AlignedV2Gguf()
    {
        var w = new GgufWriter(2);
        w.Add("general.alignment", 64u);
        w.Add("general.name", "aligned");
        w.AddTensor("a", GgmlType.Q8_0, [32], Pattern(34, 5));
        w.AddTensor("b", GgmlType.F32, [5, 3], Pattern(60, 6));
        return w;
    }

    /// <summary>safetensors with the common dtypes, a scalar and metadata.</summary>
    public static SafetensorsWriter MixedSafetensors()
    {
        var w = new SafetensorsWriter();
        w.AddMetadata("format", "pt").AddMetadata("note", "corpus");
        w.AddTensor("f32", SafetensorsDType.F32, [2, 3], Pattern(24, 1));
        w.AddTensor("f16", SafetensorsDType.F16, [4], Pattern(8, 2));
        w.AddTensor("bf16", SafetensorsDType.BF16, [2, 2], Pattern(8, 3));
        w.AddTensor("f8_e4m3", SafetensorsDType.F8_E4M3, [4], Pattern(4, 4));
        w.AddTensor("f8_e5m2", SafetensorsDType.F8_E5M2, [2], Pattern(2, 5));
        w.AddTensor("i8", SafetensorsDType.I8, [5], Pattern(5, 6));
        w.AddTensor("u8", SafetensorsDType.U8, [3], Pattern(3, 7));
        w.AddTensor("i32", SafetensorsDType.I32, [2], Pattern(8, 8));
        w.AddTensor("i64", SafetensorsDType.I64, [1, 1], Pattern(8, 9));
        w.AddTensor("f64.scalar", SafetensorsDType.F64, [], Pattern(8, 10));
        return w;
    }

    /// <summary>All corpus files by name.</summary>
    public static Dictionary<string, byte[]> Generate() => new()
    {
        ["all-types.gguf"] = AllTypesGguf().ToArray(),
        ["aligned-v2.gguf"] = AlignedV2Gguf().ToArray(),
        ["mixed.safetensors"] = MixedSafetensors().ToArray(),
        ["legacy-shared.llama2c.bin"] = Llama2cTestWriter.Checkpoint(TinyConfig, version1: false),
        ["v1-unshared.llama2c.bin"] = Llama2cTestWriter.Checkpoint(TinyConfig with { SharedClassifier = false }, version1: true),
        ["tok6.llama2c-tok.bin"] = Llama2cTestWriter.Tokenizer(TinyPieces, TinyScores),
    };

    /// <summary>The committed corpus folder in the source tree.</summary>
    public static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Quanta.Core.Tests", "ModelFiles", "Corpus");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/Quanta.Core.Tests/ModelFiles/Corpus not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Committed corpus files whose name ends with <paramref name="suffix"/>.</summary>
    public static (string Name, byte[] Bytes)[] Load(string suffix)
    {
        var files = Directory.GetFiles(Folder()).Where(f => f.EndsWith(suffix, StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"no corpus files ending in {suffix} in {Folder()}");
        return files.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
    }
}
