using System.Text.Json;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Cli.Tests;

/// <summary>`quanta convert`, `quanta quantize` and `quanta perplexity` run as a user would.</summary>
public sealed class ConvertQuantizePerplexityCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"quanta-cli-convert-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public ConvertQuantizePerplexityCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Convert_quantize_and_perplexity_end_to_end()
    {
        string gguf = Path.Combine(_dir, "stories260K.gguf");
        var r = CliHarness.Run("convert", CliHarness.Shared("testdata/llama2c/stories260K.bin"), gguf,
            "--tokenizer", CliHarness.Shared("testdata/llama2c/tok512.bin"), "--outtype", "f16");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(gguf, r.Stdout.Trim());
        Assert.Contains($"converting: wrote {gguf}", r.Stderr);   // progress goes to stderr, the result path to stdout
        using (var f0 = GgufFile.Open(gguf)) Assert.True(f0.TryGetTensor("blk.4.ffn_down.weight", out _));
        using (var f = GgufFile.Open(gguf))
        {
            Assert.Equal(GgmlType.F16, f.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal("llama", f.GetString("tokenizer.ggml.model"));
        }

        string q8 = Path.Combine(_dir, "q8.gguf");
        r = CliHarness.Run("quantize", gguf, q8, "--type", "Q8_0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(q8, r.Stdout.Trim());
        using (var f = GgufFile.Open(q8))
        {
            Assert.Equal(7u, f.GetUInt32("general.file_type"));
            Assert.Equal(GgmlType.Q8_0, f.GetTensor("blk.0.attn_q.weight").Type);
            // 172-wide rows do not divide Q8_0's 32: F16.
            Assert.Equal(GgmlType.F16, f.GetTensor("blk.0.ffn_down.weight").Type);
            Assert.Equal(GgmlType.F32, f.GetTensor("blk.0.attn_norm.weight").Type);
        }

        r = CliHarness.Run("perplexity", "-m", q8, "-f", CliHarness.Shared("testdata/llama2c/stories260K.greedy.txt"),
            "--reference", gguf, "-c", "32", "--json", "-t", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("[8/8]", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(8, root.GetProperty("chunks").GetInt32());
        Assert.Equal(8 * 15, root.GetProperty("tokens_scored").GetInt32());
        double ppl = root.GetProperty("perplexity").GetDouble(), kl = root.GetProperty("mean_kl_divergence").GetDouble();
        // The model's own greedy text is highly predictable for it.
        Assert.InRange(ppl, 1.0, 5.0);
        Assert.InRange(kl, 1e-9, 0.05);
        Assert.InRange(root.GetProperty("same_top_token_rate").GetDouble(), 0.9, 1.0);
    }

    [Theory]
    [InlineData("convert-no-tokenizer", "--tokenizer")]
    [InlineData("quantize-unknown-type", "unknown --type 'Q9_9'")]
    [InlineData("quantize-wrong-source", "takes a GGUF file")]
    [InlineData("fp8-wrong-source", "takes a Hugging Face safetensors folder")]
    public void User_errors_give_one_line_and_exit_1(string scenario, string expected)
    {
        string bin = CliHarness.Shared("testdata/llama2c/stories260K.bin"), outFile = Path.Combine(_dir, "x.gguf");
        var r = scenario switch
        {
            "convert-no-tokenizer" => CliHarness.Run("convert", bin, outFile),
            "quantize-unknown-type" => CliHarness.Run("quantize", bin, outFile, "--type", "Q9_9"),
            "quantize-wrong-source" => CliHarness.Run("quantize", bin, outFile, "--type", "Q4_K"),
            _ => CliHarness.Run("quantize", bin, outFile, "--type", "FP8"),
        };
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("quanta: error: ", line);
        Assert.Contains(expected, line);
        Assert.False(File.Exists(outFile));
    }
}
