using System.CommandLine;
using Quanta.Models.Conversion;

namespace Quanta.Cli;

/// <summary>
/// `quanta convert SRC DST [--tokenizer FILE] [--outtype f32|f16|bf16]`: a llama2.c checkpoint (with its tokenizer
/// .bin) or a Hugging Face Llama folder / .safetensors (config.json beside it) to a llama GGUF. Progress (one line per
/// tensor) goes to stderr; stdout gets only the path written.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var src = new Argument<string>("src") { Description = "llama2.c .bin checkpoint, or Hugging Face folder / .safetensors with config.json" };
        var dst = new Argument<string>("dst") { Description = "GGUF file to write" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "llama2.c tokenizer .bin (required for llama2.c checkpoints)" };
        var outtype = new Option<string?>("--outtype") { Description = "matrix type: f32, f16 or bf16 (default: the source's)" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("convert", "Convert a llama2.c or Hugging Face checkpoint to GGUF.") { src, dst, tokenizer, outtype, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string source = p.GetValue(src)!, destination = p.GetValue(dst)!;
            GgufOutputType type = GgufOutputTypes.Parse(p.GetValue(outtype));
            using var progress = new Progress("converting");
            Action<string> log = progress.LineSink();
            switch (SourceKinds.Detect(source))
            {
                case SourceKind.HuggingFace:
                    HuggingFaceToGguf.Convert(source, destination, type, log);
                    break;
                case SourceKind.Gguf:
                    throw new ArgumentException($"{source} is already GGUF; use `quanta quantize` to change its types");
                default:
                    string tok = p.GetValue(tokenizer)
                        ?? throw new ArgumentException($"{source} looks like a llama2.c checkpoint: pass its tokenizer with --tokenizer (e.g. tokenizer.bin)");
                    Llama2cToGguf.Convert(source, tok, destination, type, log);
                    break;
            }
            progress.Done($"wrote {destination} in {progress.Elapsed.TotalSeconds:F1} s");
            Console.Out.WriteLine(destination);
            return 0;
        }));
        return cmd;
    }
}

/// <summary>What kind of model a path holds, judged as <see cref="Quanta.Models.ModelLoader"/> does.</summary>
internal enum SourceKind
{
    Gguf,
    HuggingFace,
    Llama2c,
}

/// <summary>Source detection shared by convert, quantize and perplexity.</summary>
internal static class SourceKinds
{
    public static SourceKind Detect(string path)
    {
        if (Directory.Exists(path)) return SourceKind.HuggingFace;
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            return SourceKind.HuggingFace;
        Span<byte> magic = stackalloc byte[4];
        using var fs = File.OpenRead(path);
        return fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8) ? SourceKind.Gguf : SourceKind.Llama2c;
    }
}
