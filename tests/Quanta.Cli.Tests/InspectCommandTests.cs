using System.Text.Json;

namespace Quanta.Cli.Tests;

public class InspectCommandTests
{
    [Fact]
    public void Gguf_summary_names_architecture_tensors_and_memory()
    {
        var r = CliHarness.Run("inspect", CliHarness.Shared("testdata/gguf/llama-2-tiny-random.gguf"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("format:      Gguf v3", r.Stdout);
        Assert.Contains("llama: 1 layers, embedding 8, feed-forward 32, 2 heads (2 KV, head dim 4)", r.Stdout);
        Assert.Contains("blk.0.ffn_down.weight", r.Stdout);
        // 2 (K and V) x 1 layer x 2 KV heads x 4 dims x 2 bytes = 32 bytes per token; 4096 tokens = 128 KiB
        Assert.Contains("(32 B per token)", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Json_output_is_machine_readable_with_snake_case_fields()
    {
        var r = CliHarness.Run("inspect", CliHarness.Shared("testdata/llama2c/stories260K.bin"), "--json", "--context", "100");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama2c", root.GetProperty("format").GetString());
        var hp = root.GetProperty("hyperparameters");
        Assert.Equal(5, hp.GetProperty("layers").GetInt32());
        Assert.Equal(64, hp.GetProperty("embedding_length").GetInt32());
        Assert.Equal(4, hp.GetProperty("kv_heads").GetInt32());
        // 2 x 5 layers x 4 KV heads x 8 dims x 2 bytes = 640 bytes per token
        Assert.Equal(640, root.GetProperty("memory").GetProperty("kv_cache_bytes_per_token_f16").GetInt64());
        Assert.Equal(64000, root.GetProperty("memory").GetProperty("kv_cache_bytes_f16").GetInt64());
        // the file is a 28-byte header followed by 264,128 floats
        Assert.Equal(264_128L * 4, root.GetProperty("tensor_bytes").GetInt64());
    }

    [Fact]
    public void Missing_file_gives_one_clear_line_and_nonzero_exit()
    {
        var r = CliHarness.Run("inspect", "/nonexistent/model.gguf");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal("quanta: error: model file not found: /nonexistent/model.gguf", r.Stderr.Trim());
    }

    [Fact]
    public void File_of_the_wrong_kind_gives_one_clear_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-notamodel-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "hello, this is not a model");
        try
        {
            var r = CliHarness.Run("inspect", path);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Contains("not a model file", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Truncated_gguf_names_the_defect()
    {
        byte[] bytes = File.ReadAllBytes(CliHarness.Shared("testdata/gguf/llama-2-tiny-random.gguf"));
        string path = Path.Combine(Path.GetTempPath(), $"quanta-trunc-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        try
        {
            var r = CliHarness.Run("inspect", path);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"quanta: error: {path}:", r.Stderr.Trim());
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
        finally { File.Delete(path); }
    }
}
