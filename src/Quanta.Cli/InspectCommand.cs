using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Quanta.Core.ModelFiles;

namespace Quanta.Cli;

/// <summary>
/// `quanta inspect FILE [--context N] [--json] [--all]`: metadata, tensors, formats and the memory the model needs at a
/// context length (weights plus an F16 KV cache). Results go to stdout; nothing else is printed there.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "GGUF file, safetensors file / index / folder, or llama2.c .bin checkpoint" };
        var context = new Option<int?>("--context", "-c") { Description = "context length for the memory estimate (default: the model's own)" };
        var json = new Option<bool>("--json") { Description = "machine-readable output (snake_case JSON)" };
        var all = new Option<bool>("--all") { Description = "list every tensor (default: the first 40)" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("inspect", "Show a model file's metadata, tensors, formats and memory needs.") { file, context, json, all, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            int? ctx = p.GetValue(context);
            if (ctx is <= 0) throw new ArgumentException($"--context must be positive, got {ctx}");
            var summary = ModelFileInspector.Inspect(p.GetValue(file)!);
            if (p.GetValue(json)) WriteJson(summary, ctx, Console.Out);
            else WriteText(summary, ctx, p.GetValue(all), Console.Out);
            return 0;
        }));
        return cmd;
    }

    private static int EffectiveContext(ModelFileSummary s, int? ctx) => ctx ?? s.Hyper.ContextLength ?? 4096;

    private static void WriteText(ModelFileSummary s, int? ctx, bool all, TextWriter o)
    {
        o.WriteLine($"file:        {s.Path}");
        o.WriteLine($"format:      {s.Kind}{(s.Version != null ? " " + s.Version : "")}");
        o.WriteLine($"parameters:  {s.Parameters:N0} in {s.Tensors.Count} tensors, {Size(s.TensorBytes)}");
        var h = s.Hyper;
        if (h.Architecture != null)
            o.WriteLine($"model:       {h.Architecture}: {h.Layers} layers, embedding {h.EmbeddingLength}, feed-forward {h.FeedForwardLength}, " +
                $"{h.Heads} heads ({h.KvHeads} KV, head dim {h.HeadDim}), context {h.ContextLength}, vocabulary {h.VocabSize}");
        o.WriteLine();
        o.WriteLine("formats:");
        foreach (var (dtype, count, bytes) in s.ByType)
            o.WriteLine($"  {dtype,-10} {count,6} tensors {Size(bytes),12}");
        int c = EffectiveContext(s, ctx);
        long? kv = h.KvBytesPerToken(2);
        o.WriteLine();
        if (kv is long kvb)
            o.WriteLine($"memory at context {c}: weights {Size(s.TensorBytes)} + KV cache (F16) {Size(kvb * c)} = {Size(s.TensorBytes + kvb * c)}  ({Size(kvb)} per token)");
        else
            o.WriteLine($"memory: weights {Size(s.TensorBytes)} (KV cache size unknown: the file states no attention shape)");
        if (s.Metadata.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("metadata:");
            foreach (var kvp in s.Metadata) o.WriteLine($"  {kvp.Key} = {kvp.Value}");
        }
        o.WriteLine();
        o.WriteLine("tensors:");
        int shown = all ? s.Tensors.Count : Math.Min(40, s.Tensors.Count);
        foreach (var t in s.Tensors.Take(shown))
            o.WriteLine($"  {t.Name,-40} {t.DType,-8} [{string.Join(", ", t.Shape)}] {Size(t.Bytes)}");
        if (shown < s.Tensors.Count) o.WriteLine($"  … {s.Tensors.Count - shown} more (use --all)");
    }

    private static void WriteJson(ModelFileSummary s, int? ctx, TextWriter o)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            var h = s.Hyper;
            int c = EffectiveContext(s, ctx);
            w.WriteStartObject();
            w.WriteString("path", s.Path);
            w.WriteString("format", s.Kind.ToString().ToLowerInvariant());
            if (s.Version != null) w.WriteString("version", s.Version);
            w.WriteNumber("parameters", s.Parameters);
            w.WriteNumber("tensor_bytes", s.TensorBytes);
            w.WriteStartObject("hyperparameters");
            void N(string k, int? v) { if (v is int x) w.WriteNumber(k, x); else w.WriteNull(k); }
            if (h.Architecture != null) w.WriteString("architecture", h.Architecture); else w.WriteNull("architecture");
            N("layers", h.Layers); N("embedding_length", h.EmbeddingLength); N("feed_forward_length", h.FeedForwardLength);
            N("heads", h.Heads); N("kv_heads", h.KvHeads); N("head_dim", h.HeadDim); N("context_length", h.ContextLength); N("vocab_size", h.VocabSize);
            w.WriteEndObject();
            w.WriteStartObject("memory");
            w.WriteNumber("context_length", c);
            w.WriteNumber("weights_bytes", s.TensorBytes);
            if (h.KvBytesPerToken(2) is long kv)
            {
                w.WriteNumber("kv_cache_bytes_per_token_f16", kv);
                w.WriteNumber("kv_cache_bytes_f16", kv * c);
                w.WriteNumber("total_bytes", s.TensorBytes + kv * c);
            }
            w.WriteEndObject();
            w.WriteStartArray("formats");
            foreach (var (dtype, count, bytes) in s.ByType)
            {
                w.WriteStartObject(); w.WriteString("dtype", dtype); w.WriteNumber("tensors", count); w.WriteNumber("bytes", bytes); w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("metadata");
            foreach (var kvp in s.Metadata) w.WriteString(kvp.Key, kvp.Value);
            w.WriteEndObject();
            w.WriteStartArray("tensors");
            foreach (var t in s.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name); w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape"); foreach (long d in t.Shape) w.WriteNumberValue(d); w.WriteEndArray();
                w.WriteNumber("bytes", t.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        o.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
