using System.Text.RegularExpressions;
using Quanta.Core.Templates;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;

namespace Quanta.Cli.Tests;

public class ChatCommandTests
{
    private static string Stories => CliHarness.Shared("testdata/llama2c/stories260K.bin");

    private static int[] PromptTokens(string stderr) =>
        Regex.Matches(stderr, @"prompt: (\d+) tokens").Select(m => int.Parse(m.Groups[1].Value)).ToArray();

    [Fact]
    public void Two_turns_keep_history_and_exit_ignores_the_rest()
    {
        var r = CliProcess.RunWithInput("Hello\nTell me a story\n/exit\nnot read\n",
            "chat", "--model", Stories, "--temperature", "0", "-n", "12");
        Assert.Equal(0, r.ExitCode);

        // The same conversation through the library: ChatML (the model has no template), greedy, 12 tokens a reply.
        using var model = LlmModel.Load(Stories, new LlmLoadOptions { Threads = 1 });
        var history = new List<ChatMessage>();
        var expected = new List<string>();
        var prompts = new List<int>();
        foreach (string user in (string[])["Hello", "Tell me a story"])
        {
            history.Add(new ChatMessage("user", user));
            int[] prompt = model.TokenizeChatPrompt(model.ApplyChatTemplate(history));
            prompts.Add(prompt.Length);
            string reply = model.Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = 12 }).Text;
            expected.Add(reply);
            history.Add(new ChatMessage("assistant", reply));
        }
        Assert.Equal(expected[0] + "\n" + expected[1] + "\n", r.Stdout);
        Assert.Equal(prompts.ToArray(), PromptTokens(r.Stderr));
        Assert.True(prompts[1] > prompts[0] + 12, "the second prompt carries the first exchange");
    }

    [Fact]
    public void Reset_clears_history_and_eof_ends_the_session()
    {
        var r = CliProcess.RunWithInput("Hello\n/reset\nHello\n", "chat", "--model", Stories, "--temperature", "0", "-n", "10");
        Assert.Equal(0, r.ExitCode);
        int[] prompts = PromptTokens(r.Stderr);
        Assert.Equal(2, prompts.Length);
        Assert.Equal(prompts[0], prompts[1]);
        Assert.Contains("history cleared", r.Stderr);
        string half = r.Stdout[..(r.Stdout.Length / 2)];
        Assert.Equal(half + half, r.Stdout);
    }

    [Fact]
    public void Chat_errors_are_one_line()
    {
        var r = CliProcess.RunWithInput("Hello\n", "chat", "--model", "/nonexistent/m.gguf");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("quanta: error: model file not found: /nonexistent/m.gguf", r.Stderr.Trim());
    }

    [Fact]
    public void Turn_longer_than_the_context_is_reported_and_the_chat_goes_on()
    {
        string longLine = string.Join(' ', Enumerable.Repeat("Once upon a time there was a girl.", 8));
        var r = CliProcess.RunWithInput(longLine + "\nHi\n/exit\n", "chat", "--model", Stories, "--context", "48", "--temperature", "0", "-n", "5");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("quanta: error: the prompt is", r.Stderr);
        Assert.Single(PromptTokens(r.Stderr));
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
