using System.Text.Json;
using Quanta.Models.KvCache;
using Quanta.Server.Protocol;

namespace Quanta.Server.Tests;

/// <summary>--cache-type / cache_type: the KV cache element type of the served LLMs (f16 by default, as llama.cpp).</summary>
public sealed class CacheTypeTests
{
    [Fact]
    public async Task Default_is_f16_and_f32_keeps_half_the_blocks_in_the_same_memory()
    {
        await using var f16 = await ServerHarness.StartAsync(o => o.KvCacheMb = 8);
        await using var f32 = await ServerHarness.StartAsync(o => { o.KvCacheMb = 8; o.CacheType = "F32"; });
        foreach (string id in new[] { "stories260K", "tiny-chat" })
        {
            var a = f16.Server.Engines[id].Cache;
            var b = f32.Server.Engines[id].Cache;
            Assert.Equal(KvCacheType.F16, a.Type);
            Assert.Equal(KvCacheType.F32, b.Type);
            Assert.Equal(b.BytesPerBlock, 2 * a.BytesPerBlock);
            // the same 8 MiB hold twice the blocks (the +1 is the pool's null block)
            Assert.InRange(a.Pool.NumBlocks - 1, 2 * (b.Pool.NumBlocks - 1) - 1, 2 * (b.Pool.NumBlocks - 1) + 1);
        }
        // both still generate
        var (status, body, _) = await f16.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once upon a time","max_tokens":8}""");
        Assert.Equal(200, status);
        Assert.Equal(8, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public void Config_file_sets_it_and_a_bad_value_is_a_clear_error()
    {
        ServerOptions o = JsonSerializer.Deserialize("""{"cache_type":"f32"}"""u8, ServerJsonContext.Default.ServerOptions)!;
        Assert.Equal(KvCacheType.F32, o.KvCacheType);
        Assert.Equal(KvCacheType.F16, new ServerOptions().KvCacheType);
        Assert.Equal(KvCacheType.Q8_0, new ServerOptions { CacheType = "Q8_0" }.KvCacheType);
        var bad = new ServerOptions { CacheType = "q4_0" };
        var e = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Contains("--cache-type must be f16, f32 or q8_0", e.Message);
        Assert.Contains("q4_0", e.Message);
    }

    [Fact]
    public async Task Mmap_maps_the_gguf_files_and_the_default_follows_the_loader()
    {
        await using var mapped = await ServerHarness.StartAsync(o => o.Mmap = true);
        await using var plain = await ServerHarness.StartAsync(_ => { });
        var m = mapped.Server.Engines["tiny-chat"].Model.Model.Gguf!;
        var d = plain.Server.Engines["tiny-chat"].Model.Model.Gguf!;
        Assert.Equal(Quanta.Core.ModelFiles.FileResidency.Mapped, m.Residency);
        Assert.Equal(Quanta.Models.ModelLoader.DefaultResidency(d.FileSize), d.Residency);
        var (status, body, _) = await mapped.PostAsync("/v1/completions", """{"model":"tiny-chat","prompt":"Hello","max_tokens":4}""");
        Assert.Equal(200, status);
        Assert.Equal(4, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        ServerOptions o = JsonSerializer.Deserialize("""{"mmap":true}"""u8, ServerJsonContext.Default.ServerOptions)!;
        Assert.True(o.Mmap);
    }
}
