using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.Tokenizers;
using Quanta.Models;
using Quanta.Models.Conversion;

namespace Quanta.Cli;

/// <summary>
/// `quanta perplexity --model FILE --file TEXT [--reference FILE] [--context N] [--chunks N] [--tokenizer FILE] [--json]`:
/// llama-perplexity's measure (non-overlapping chunks of N tokens, BOS at each chunk start when the vocabulary adds one,
/// only the second half of each chunk scored; see <see cref="PerplexityEvaluator"/>). The running PPL after each chunk goes
/// to stderr; stdout gets the final PPL and, with --reference, the mean KL(reference ‖ model) and same-top-token rate.
/// </summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model file (GGUF, llama2.c .bin, Hugging Face folder)", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "text file to evaluate", Required = true };
        var reference = new Option<string?>("--reference") { Description = "reference model (same vocabulary) for KL divergence" };
        var context = new Option<int>("--context", "-c") { Description = "tokens per chunk", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int>("--chunks") { Description = "most chunks to evaluate (0 = all)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer for llama2.c checkpoints (tokenizer .bin)" };
        var threads = new Option<int>("--threads", "-t") { Description = "threads (0 = all cores)" };
        var json = new Option<bool>("--json") { Description = "machine-readable output (snake_case JSON)" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("perplexity", "Perplexity of a model on a text (llama-perplexity method), optionally KL divergence from a reference.")
            { model, file, reference, context, chunks, tokenizer, threads, json, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            int ctx = p.GetValue(context), nChunks = p.GetValue(chunks);
            if (ctx < 2) throw new ArgumentException($"--context must be at least 2, got {ctx}");
            if (nChunks < 0) throw new ArgumentException($"--chunks must not be negative, got {nChunks}");
            string textPath = p.GetValue(file)!;
            if (!File.Exists(textPath)) throw new FileNotFoundException($"text file not found: {textPath}", textPath);
            string text = File.ReadAllText(textPath);
            using LoadedModel m = ModelLoader.Load(p.GetValue(model)!);
            ITokenizer tok = TokenizerFor(m, p.GetValue(tokenizer));
            using LoadedModel? r = p.GetValue(reference) is string refPath ? ModelLoader.Load(refPath) : null;
            int[] tokens = tok.Encode(text, addSpecial: true);
            Console.Error.WriteLine($"perplexity: {tokens.Length} tokens, {tokens.Length / ctx} chunks of {ctx}");
            var options = new PerplexityOptions
            {
                Context = ctx,
                MaxChunks = nChunks,
                Bos = tok.AddBos ? tok.Bos : null,
                Threads = p.GetValue(threads),
            };
            PerplexityResult res = PerplexityEvaluator.Evaluate(m, tokens, options, r,
                (c, total, ppl) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{c + 1}/{total}] {ppl:F4}")));
            if (p.GetValue(json)) WriteJson(res, ctx);
            else WriteText(res, ctx);
            return 0;
        }));
        return cmd;
    }

    private static ITokenizer TokenizerFor(LoadedModel m, string? tokenizerPath)
    {
        if (tokenizerPath != null)
            return tokenizerPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? TokenizerFactory.FromHuggingFaceFile(tokenizerPath)
                : TokenizerFactory.FromLlama2c(Llama2cTokenizer.Open(tokenizerPath, m.Config.VocabSize), tokenizerPath);
        if (m.Gguf != null) return TokenizerFactory.FromGguf(m.Gguf);
        if (m.Kind == ModelSourceKind.Safetensors)
        {
            string dir = Directory.Exists(m.SourcePath) ? m.SourcePath : Path.GetDirectoryName(Path.GetFullPath(m.SourcePath))!;
            string json = Path.Combine(dir, "tokenizer.json");
            if (File.Exists(json)) return TokenizerFactory.FromHuggingFaceFile(json);
        }
        throw new ArgumentException($"{m.SourcePath} carries no tokenizer: pass one with --tokenizer");
    }

    private static void WriteText(PerplexityResult r, int ctx)
    {
        var o = Console.Out;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"perplexity: {r.Perplexity:F4} ({r.Chunks} chunks of {ctx}, {r.TokensScored} tokens scored)"));
        if (r.MeanKlDivergence is double kl)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reference perplexity: {r.ReferencePerplexity:F4}"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean KL divergence: {kl:F6}"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"same top token: {100 * r.SameTopTokenRate:F3}%"));
        }
    }

    private static void WriteJson(PerplexityResult r, int ctx)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("perplexity", r.Perplexity);
            w.WriteNumber("mean_nll", r.MeanNll);
            w.WriteNumber("context", ctx);
            w.WriteNumber("chunks", r.Chunks);
            w.WriteNumber("tokens_scored", r.TokensScored);
            w.WriteStartArray("chunk_perplexities");
            foreach (double v in r.ChunkPerplexities) w.WriteNumberValue(v);
            w.WriteEndArray();
            if (r.MeanKlDivergence is double kl)
            {
                w.WriteNumber("reference_perplexity", r.ReferencePerplexity!.Value);
                w.WriteNumber("mean_kl_divergence", kl);
                w.WriteNumber("same_top_token_rate", r.SameTopTokenRate!.Value);
            }
            w.WriteEndObject();
        }
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }
}
