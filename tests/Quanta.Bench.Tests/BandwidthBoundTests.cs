using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.KvCache;

namespace Quanta.Bench.Tests;

public class BandwidthBoundTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _models;

    public BandwidthBoundTests(TinyModels models) => _models = models;

    [Fact]
    public void Footprint_of_the_tiny_model_matches_the_hand_count()
    {
        using var f = GgufFile.Open(_models.SmallQ8);
        var fp16 = TokenFootprint.FromGguf(f, KvCacheType.F16);
        Assert.Equal(100016, TinyModels.SmallWeightBytes);
        Assert.Equal(TinyModels.SmallWeightBytes, fp16.WeightBytes);
        Assert.Equal(TinyModels.SmallEmbeddingRow, fp16.EmbeddingRowBytes);
        Assert.Equal(256, fp16.KvBytesPerPosition);
        Assert.Equal(512, TokenFootprint.FromGguf(f, KvCacheType.F32).KvBytesPerPosition);
        Assert.Equal(144, TokenFootprint.FromGguf(f, KvCacheType.Q8_0).KvBytesPerPosition);   // 128 elements · 36/32 bytes
    }

    [Fact]
    public void Bytes_per_token_at_depth_counts_weights_one_embedding_row_and_the_kv_read()
    {
        // tg4 after 10 cached tokens: the tokens attend to 11, 12, 13, 14 positions, mean 12.5.
        Assert.Equal(12.5, TokenFootprint.MeanPositions(10, 4));
        Assert.Equal(1.0, TokenFootprint.MeanPositions(0, 1));
        var fp = new TokenFootprint(100016, 68, 256);
        Assert.Equal(100016 + 68 + 256 * 12.5, fp.BytesPerToken(TokenFootprint.MeanPositions(10, 4)));
        Assert.Equal(103284.0, fp.BytesPerToken(12.5));
    }

    [Fact]
    public void Tied_output_reads_the_whole_embedding_table_as_the_head()
    {
        string path = Path.Combine(_models.Dir, "tied.gguf");
        ModelGenerator.Generate(TinyModels.Small with { TiedOutput = true }, Quanta.Models.Conversion.GgufQuantType.Q8_0, path);
        using var f = GgufFile.Open(path);
        Assert.False(f.TryGetTensor("output.weight", out _));
        // token_embd (300·68 = 20400, Q8_0 as the tied head) replaces output.weight (also 20400): same total.
        var fp = TokenFootprint.FromGguf(f, KvCacheType.F16);
        Assert.Equal(TinyModels.SmallWeightBytes, fp.WeightBytes);
        Assert.Equal(68, fp.EmbeddingRowBytes);
    }

    [Fact]
    public void Bound_and_fraction_use_the_mean_of_the_two_readings()
    {
        // 1 GB a token at (20 + 30)/2 = 25 GB/s allows 25 t/s; 10 t/s is 40% of it.
        var (boundTs, fraction) = BenchRunner.Bound(1e9, 10, 20e9, 30e9);
        Assert.Equal(25.0, boundTs, 9);
        Assert.Equal(0.4, fraction, 9);
    }

    [Fact]
    public void Readings_disagree_beyond_ten_percent()
    {
        Assert.False(BenchRunner.Disagree(100, 110, 0.10));
        Assert.True(BenchRunner.Disagree(100, 110.5, 0.10));
        Assert.True(BenchRunner.Disagree(111, 100, 0.10));
    }
}
