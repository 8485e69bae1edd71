using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Cli.Tests;

public class RunCommandTests
{
    private static string Stories => CliHarness.Shared("testdata/llama2c/stories260K.bin");
    private static string Tok512 => CliHarness.Shared("testdata/llama2c/tok512.bin");

    private static void AssertOneErrorLine(CliHarness.Result r, string expectedFragment)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string[] errors = r.Stderr.Split('\n').Where(l => l.StartsWith("quanta: error:", StringComparison.Ordinal)).ToArray();
        Assert.Single(errors);
        Assert.Contains(expectedFragment, errors[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void Greedy_empty_prompt_prints_exactly_the_published_llama2c_sample()
    {
        var r = CliHarness.Run("run", "--model", Stories, "--tokenizer", Tok512, "--temperature", "0", "-n", "256", "--prompt", "");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.ReadAllText(CliHarness.Shared("testdata/llama2c/stories260K.greedy.txt")), r.Stdout);
        Assert.Contains("generation: 256 tokens", r.Stderr);
    }

    [Fact]
    public void Run_prints_text_to_stdout_and_speeds_to_stderr()
    {
        // tok512.bin lies next to stories260K.bin, so no --tokenizer is needed.
        var r = CliHarness.Run("run", "--model", Stories, "--prompt", "Once upon a time", "-n", "30", "--seed", "5");
        Assert.Equal(0, r.ExitCode);
        Assert.True(r.Stdout.Trim().Length > 10, $"stdout: '{r.Stdout}'");
        Assert.EndsWith("\n", r.Stdout);
        Assert.DoesNotContain("tokens/s", r.Stdout);
        Assert.Matches(@"prompt: 5 tokens, [0-9.]+ tokens/s \| generation: [0-9]+ tokens, [0-9.]+ tokens/s", r.Stderr);

        var again = CliHarness.Run("run", "--model", Stories, "--prompt", "Once upon a time", "-n", "30", "--seed", "5");
        Assert.Equal(r.Stdout, again.Stdout);
    }

    [Fact]
    public void Run_on_a_gguf_uses_its_own_tokenizer_and_stops_at_n()
    {
        var r = CliHarness.Run("run", "-m", CliHarness.Shared("testdata/gguf/llama-2-tiny-random.gguf"), "-p", "Hello", "-n", "8", "--temperature", "0");
        Assert.Equal(0, r.ExitCode);
        Assert.NotEqual("", r.Stdout.Trim());
        Assert.Contains("generation: 8 tokens", r.Stderr);
        Assert.Contains("stop: length", r.Stderr);
    }

    [Fact]
    public void Mmap_maps_the_file_and_generates_the_same_greedy_text()
    {
        string gguf = CliHarness.Shared("testdata/gguf/llama-2-tiny-random.gguf");
        var copied = CliHarness.Run("run", "-m", gguf, "-p", "Hello", "-n", "8", "--temperature", "0");
        var mapped = CliHarness.Run("run", "-m", gguf, "-p", "Hello", "-n", "8", "--temperature", "0", "--mmap");
        Assert.Equal(0, copied.ExitCode);
        Assert.Equal(0, mapped.ExitCode);
        Assert.NotEqual("", mapped.Stdout.Trim());
        Assert.Equal(copied.Stdout, mapped.Stdout);
    }

    [Fact]
    public void Stop_string_ends_the_output()
    {
        var r = CliHarness.Run("run", "--model", Stories, "--temperature", "0", "--prompt", "", "--stop", "named", "--stop", "zzz");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("Once upon a time, there was a little girl \n", r.Stdout);
        Assert.Contains("stop: stop", r.Stderr);
    }

    [Fact]
    public void Missing_model_file()
    {
        var r = CliHarness.Run("run", "--model", "/nonexistent/model.gguf", "--prompt", "hi");
        AssertOneErrorLine(r, "model file not found: /nonexistent/model.gguf");
    }

    [Fact]
    public void File_of_the_wrong_kind()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-run-notamodel-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "hello, this is not a model\n");
        try
        {
            AssertOneErrorLine(CliHarness.Run("run", "--model", path, "--prompt", "hi"), "not a model file");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Unsupported_architecture_lists_the_supported_ones()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-run-foo-{Guid.NewGuid():N}.gguf");
        var w = new GgufWriter();
        w.Add("general.architecture", "foo");
        w.Add("foo.block_count", 1u);
        w.AddTensor("token_embd.weight", Quanta.Core.Formats.GgmlType.F32, [4, 2], new byte[32]);
        w.WriteTo(path);
        try
        {
            var r = CliHarness.Run("run", "--model", path, "--prompt", "hi");
            AssertOneErrorLine(r, "'foo' is not supported");
            foreach (string arch in new[] { "llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3" })
                Assert.Contains(arch, r.Stderr.Split("supported:")[1]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Prompt_longer_than_the_context()
    {
        var r = CliHarness.Run("run", "--model", Stories, "--tokenizer", Tok512, "--context", "16", "--prompt",
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.");
        AssertOneErrorLine(r, "the prompt is 32 tokens long but the context holds only 16 tokens");
    }

    [Fact]
    public void Bad_sampling_option_names_the_option()
    {
        AssertOneErrorLine(CliHarness.Run("run", "--model", Stories, "--top-p", "1.5", "--prompt", "x"), "--top-p must be in [0, 1], got 1.5");
    }

    [Fact]
    public void Llama2c_checkpoint_without_a_tokenizer_names_the_option()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-run-").FullName;
        try
        {
            string path = Path.Combine(dir, "stories.bin");
            File.Copy(Stories, path);
            AssertOneErrorLine(CliHarness.Run("run", "--model", path, "--prompt", "hi"), "--tokenizer");
        }
        finally { Directory.Delete(dir, true); }
    }

    // The GPU executor behind the serving engine, on ILGPU's CPU accelerator (hidden --gpu-simulated): BF16 weights keep
    // the greedy choice of llama2.c's published sample for these first 16 tokens (measured: the texts part after ~100
    // tokens, where BF16 rounding flips a close argmax), and the stderr line adds the run's energy.
    [Fact]
    public void Run_on_the_simulated_GPU_streams_the_greedy_sample_and_reports_energy()
    {
        var r = CliHarness.Run("run", "--model", Stories, "--tokenizer", Tok512, "--temperature", "0", "-n", "16", "--prompt", "",
            "--gpu", "--gpu-simulated", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string published = File.ReadAllText(CliHarness.Shared("testdata/llama2c/stories260K.greedy.txt"));
        Assert.EndsWith("\n", r.Stdout);
        string text = r.Stdout[..^1];
        Assert.True(text.Length > 40 && published.StartsWith(text, StringComparison.Ordinal), $"GPU text '{text}'");
        Assert.Contains("on CPUAccelerator in BF16", r.Stderr);
        Assert.Matches(@"generation: 16 tokens, [0-9.]+ tokens/s \| stop: length \| energy: [0-9.]+ J, [0-9.]+ J/token", r.Stderr);
    }

    // --gpu on a machine without the NVIDIA driver: one clear error line (with a driver, it runs and prints text).
    [Fact]
    public void Run_with_gpu_without_a_driver_fails_with_one_clear_line()
    {
        AssertOneErrorLine(CliHarness.Run("run", "--model", Stories, "--gpu-simulated"), "--gpu-simulated needs --gpu");
        var r = CliHarness.Run("run", "--model", Stories, "--tokenizer", Tok512, "-n", "4", "--gpu");
        if (Quanta.Cuda.Interop.NativeLibraries.IsAvailable(Quanta.Cuda.Interop.NvidiaLibrary.Driver))
        {
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.NotEqual("", r.Stdout.Trim());
            return;
        }
        AssertOneErrorLine(r, "CUDA driver (libcuda) is not available");
    }
}
