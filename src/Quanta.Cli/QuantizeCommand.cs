using System.CommandLine;
using Quanta.Models.Conversion;

namespace Quanta.Cli;

/// <summary>
/// `quanta quantize SRC DST --type T`: GGUF → GGUF with llama-quantize's per-tensor rules for Q8_0, Q4_0, Q4_1, Q5_0,
/// Q5_1, Q2_K, Q4_K (= Q4_K_M), Q4_K_S, Q5_K (= Q5_K_M), Q5_K_S, Q6_K, F16, BF16, F32; or a Hugging Face safetensors
/// folder → compressed-tensors folder for FP8 / INT8 (per-channel, weight-only). Progress on stderr; stdout gets the
/// path written.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var src = new Argument<string>("src") { Description = "GGUF file (GGUF types) or Hugging Face folder (FP8, INT8)" };
        var dst = new Argument<string>("dst") { Description = "GGUF file, or output folder for FP8/INT8" };
        var type = new Option<string>("--type") { Description = "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q4_K, Q4_K_S, Q5_K, Q5_K_S, Q6_K, F16, BF16, F32, FP8 or INT8", Required = true };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("quantize", "Quantize a GGUF file (llama-quantize rules) or a safetensors checkpoint (FP8/INT8).") { src, dst, type, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string source = p.GetValue(src)!, destination = p.GetValue(dst)!, name = p.GetValue(type) ?? "";
            using var progress = new Progress("quantizing");
            Action<string> log = progress.LineSink();
            string upper = name.ToUpperInvariant();
            if (upper is "FP8" or "INT8")
            {
                if (SourceKinds.Detect(source) != SourceKind.HuggingFace)
                    throw new ArgumentException($"--type {upper} takes a Hugging Face safetensors folder; {source} is not one");
                CompressedTensorsQuantizer.Quantize(source, destination, upper == "FP8" ? CompressedTensorsScheme.Fp8 : CompressedTensorsScheme.Int8, log);
            }
            else if (GgufQuantType.TryParse(name, out GgufQuantType target))
            {
                if (SourceKinds.Detect(source) != SourceKind.Gguf)
                    throw new ArgumentException($"--type {target.Name} takes a GGUF file; {source} is not one (run `quanta convert` first)");
                GgufQuantizer.Quantize(source, destination, target, log);
            }
            else
            {
                throw new ArgumentException($"unknown --type '{name}' (choose {string.Join(", ", GgufQuantType.All.Select(t => t.Name))}, Q4_K, Q5_K, FP8 or INT8)");
            }
            progress.Done($"wrote {destination} in {progress.Elapsed.TotalSeconds:F1} s");
            Console.Out.WriteLine(destination);
            return 0;
        }));
        return cmd;
    }
}
