using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.ModelFiles;

public class Llama2cTests
{
    private const string Name = "model.bin";

    private static ModelFileException Fails(Func<IDisposable?> parse, string name, params string[] fragments)
    {
        var e = Assert.Throws<ModelFileException>(() => parse()?.Dispose());
        Assert.Equal(name, e.FilePath);
        Assert.StartsWith(name + ": ", e.Message);
        foreach (string f in fragments) Assert.Contains(f, e.Defect);
        return e;
    }

    private static ModelFileException CheckpointFails(byte[] bytes, params string[] fragments) =>
        Fails(() => Llama2cCheckpoint.Parse(bytes, Name), Name, fragments);

    [Fact]
    public void Stories260K_config_and_weights()
    {
        string path = SharedData.Get("testdata/llama2c/stories260K.bin");
        Assert.Equal(1_056_540, new FileInfo(path).Length);
        using Llama2cCheckpoint m = Llama2cCheckpoint.Open(path);
        Assert.Equal(Llama2cFormat.Legacy, m.Format);
        Assert.Equal(new Llama2cConfig(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), m.Config);
        Assert.Equal(8, m.Config.HeadSize);
        Assert.Equal(32, m.Config.KvDim);
        Assert.Equal(512 * 64, m.GetWeights("token_embedding_table").Length);
        Assert.Equal(5 * 32 * 64, m.GetWeights("wk").Length);
        Assert.Equal(5 * 64 * 172, m.GetWeights("w2").Length);
        Assert.Equal(512 * 4, m.GetWeights("freq_cis_real").Length);
        Assert.Equal(64 * 172, m.GetLayerWeights("w2", 4).Length);

        // The file is header (28 bytes) + floats back to back; spot-check offsets against raw bytes.
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(BitConverter.ToSingle(raw, 28), m.GetWeights("token_embedding_table")[0]);
        Assert.Equal(BitConverter.ToSingle(raw, 28 + 4 * 512 * 64), m.GetWeights("rms_att_weight")[0]);
        Assert.Equal(BitConverter.ToSingle(raw, raw.Length - 4), m.GetWeights("freq_cis_imag")[^1]);
        // The RoPE table at position 0 is cos(0) = 1 and sin(0) = 0.
        Assert.Equal(1f, m.GetWeights("freq_cis_real")[0]);
        Assert.Equal(0f, m.GetWeights("freq_cis_imag")[0]);
        // Shared classifier: wcls is the embedding table.
        Assert.True(m.GetWeights("wcls") == m.GetWeights("token_embedding_table"));
        Assert.Throws<ModelFileException>(() => m.GetWeights("nope"));
    }

    [Fact]
    public void Tok512_pieces_and_scores()
    {
        string path = SharedData.Get("testdata/llama2c/tok512.bin");
        Llama2cTokenizer tok = Llama2cTokenizer.Open(path, 512);
        Assert.Equal(512, tok.Count);
        Assert.Equal("<unk>", tok.Pieces[0]);
        Assert.Equal("\n<s>\n", tok.Pieces[1]);
        Assert.Equal("\n</s>\n", tok.Pieces[2]);
        Assert.Equal("<0x00>", tok.Pieces[3]);
        Assert.Equal("<0xFF>", tok.Pieces[258]);
        Assert.True(tok.MaxTokenLength >= tok.Pieces.Max(p => System.Text.Encoding.UTF8.GetByteCount(p)));
        Assert.Equal(512, tok.Scores.Length);
        // The wrong vocab size leaves bytes over or runs short.
        Fails(() => { Llama2cTokenizer.Open(path, 511); return null; }, path, "unexpected bytes after the last of 511 tokens");
        Fails(() => { Llama2cTokenizer.Open(path, 513); return null; }, path, "truncated");
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void Written_checkpoints_map_every_name(bool version1, bool shared)
    {
        Llama2cConfig cfg = ModelFileCorpus.TinyConfig with { SharedClassifier = shared };
        byte[] bytes = Llama2cTestWriter.Checkpoint(cfg, version1);
        using Llama2cCheckpoint m = Llama2cCheckpoint.Parse(bytes, Name);
        Assert.Equal(version1 ? Llama2cFormat.Version1 : Llama2cFormat.Legacy, m.Format);
        Assert.Equal(cfg, m.Config);
        var layout = Llama2cTestWriter.Layout(cfg, version1);
        for (int k = 0; k < layout.Count; k++)
        {
            ReadOnlySpan<float> w = m.GetWeights(layout[k].Name);
            Assert.Equal(layout[k].Count, w.Length);
            Assert.Equal(k * 1000, w[0]);
            Assert.Equal(k * 1000 + layout[k].Count - 1, w[^1]);
        }
        Assert.Equal(m.GetWeights(shared ? "token_embedding_table" : "wcls")[0], m.GetWeights("wcls")[0]);
        Assert.Equal(!version1, m.Contains("freq_cis_real"));
        long[] wkShape = m.GetTensor("wk").Shape.ToArray();
        Assert.Equal(new long[] { 1, 4, 8 }, wkShape);
    }

    // ---- defects ----

    private static byte[] Legacy() => Llama2cTestWriter.Checkpoint(ModelFileCorpus.TinyConfig, version1: false);

    [Fact]
    public void Truncated_header() => CheckpointFails(Legacy()[..10], "truncated", "n_layers");

    [Fact]
    public void Truncated_weights() => CheckpointFails(Legacy()[..^4], "file size", "does not match");

    [Fact]
    public void Trailing_bytes() => CheckpointFails([.. Legacy(), 0, 0, 0, 0], "does not match");

    [Fact]
    public void Zero_dim() => CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 0, 0), "dim is 0");

    [Fact]
    public void Negative_layers() => CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 2, -3), "n_layers is -3");

    [Fact]
    public void Heads_do_not_divide_dim() => CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 3, 3), "dim 8 is not a multiple of n_heads 3");

    [Fact]
    public void Kv_heads_do_not_divide_heads() => CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 4, 3), "n_heads 2 is not a multiple of n_kv_heads 3");

    [Fact]
    public void Vocab_int_min() => CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 5, int.MinValue), "vocab_size", "out of range");

    [Fact]
    public void Absurd_sizes_do_not_overflow()
    {
        byte[] b = Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 0, 1 << 30);
        b = Llama2cTestWriter.WithLegacyHeaderField(b, 1, int.MaxValue);
        b = Llama2cTestWriter.WithLegacyHeaderField(b, 2, int.MaxValue);
        b = Llama2cTestWriter.WithLegacyHeaderField(b, 3, 1);
        b = Llama2cTestWriter.WithLegacyHeaderField(b, 4, 1);
        CheckpointFails(b, "overflows 64 bits");
    }

    [Fact]
    public void Huge_but_representable_config_is_a_size_mismatch() =>
        CheckpointFails(Llama2cTestWriter.WithLegacyHeaderField(Legacy(), 5, 100_000_000), "does not match the", "bytes that config");

    [Fact]
    public void Version_2_is_rejected()
    {
        byte[] b = Llama2cTestWriter.Checkpoint(ModelFileCorpus.TinyConfig, version1: true);
        b[4] = 2;
        CheckpointFails(b, "version 2", "not supported");
    }

    [Fact]
    public void Unknown_version_is_rejected()
    {
        byte[] b = Llama2cTestWriter.Checkpoint(ModelFileCorpus.TinyConfig, version1: true);
        b[4] = 9;
        CheckpointFails(b, "unsupported llama2.c checkpoint version 9");
    }

    [Fact]
    public void Version1_bad_shared_flag()
    {
        byte[] b = Llama2cTestWriter.Checkpoint(ModelFileCorpus.TinyConfig, version1: true);
        b[36] = 7;
        CheckpointFails(b, "shared-classifier flag at offset 36 is 7");
    }

    [Fact]
    public void Empty_checkpoint() => CheckpointFails([], "truncated");

    private const string TokName = "tok.bin";

    private static ModelFileException TokenizerFails(byte[] bytes, int vocab, params string[] fragments) =>
        Fails(() => { Llama2cTokenizer.Parse(bytes, vocab, TokName); return null; }, TokName, fragments);

    private static byte[] Tok() => Llama2cTestWriter.Tokenizer(ModelFileCorpus.TinyPieces, ModelFileCorpus.TinyScores);

    [Fact]
    public void Written_tokenizer_round_trips()
    {
        Llama2cTokenizer t = Llama2cTokenizer.Parse(Tok(), 6, TokName);
        Assert.Equal(ModelFileCorpus.TinyPieces, t.Pieces);
        Assert.Equal(ModelFileCorpus.TinyScores, t.Scores.ToArray());
        Assert.Equal(6, t.MaxTokenLength);
    }

    [Fact]
    public void Tokenizer_truncated() => TokenizerFails(Tok()[..^1], 6, "truncated", "token 5");

    [Fact]
    public void Tokenizer_absurd_vocab() => TokenizerFails(Tok(), 1_000_000_000, "1000000000 tokens cannot fit");

    [Fact]
    public void Tokenizer_negative_length()
    {
        byte[] b = Tok();
        BitConverter.TryWriteBytes(b.AsSpan(8), -5); // token 0's length
        TokenizerFails(b, 6, "token 0 length -5");
    }

    [Fact]
    public void Tokenizer_length_above_max()
    {
        byte[] b = Tok();
        BitConverter.TryWriteBytes(b.AsSpan(0), 2); // max_token_length 2, but "<unk>" has 5 bytes
        TokenizerFails(b, 6, "token 0 length 5", "max_token_length 2");
    }

    [Fact]
    public void Tokenizer_bad_max_length()
    {
        byte[] b = Tok();
        BitConverter.TryWriteBytes(b.AsSpan(0), 0);
        TokenizerFails(b, 6, "max_token_length 0 must be positive");
    }

    [Fact]
    public void Tokenizer_invalid_utf8()
    {
        byte[] b = Tok();
        b[12] = 0xC0; // first byte of "<unk>" becomes an invalid lead byte
        TokenizerFails(b, 6, "token 0", "not valid UTF-8");
    }
}
