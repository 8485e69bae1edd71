using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Quanta.Core.Tests.Templates;

/// <summary>
/// Runs tests/js/jinja/render.mjs (node + @huggingface/jinja 0.5.11) on a batch of
/// {template, context, now} cases in one process and returns each output or error.
/// </summary>
public static class JinjaOracle
{
    public sealed record Result(string? Output, string? Error);

    /// <summary>The repository root: the first folder above the test binaries holding Quanta.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Quanta.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"Quanta.sln not found above {AppContext.BaseDirectory}");
    }

    public static string OracleDir => Path.Combine(RepoRoot(), "tests", "js", "jinja");

    /// <summary>Fails with the install command when the oracle's node_modules are missing.</summary>
    public static string NodeModules(string package)
    {
        string path = Path.Combine(OracleDir, "node_modules", package);
        if (!Directory.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} is missing: run `npm ci --prefix tests/js/jinja` from the repository root (needs node >= 18).");
        }
        return path;
    }

    public static IReadOnlyList<Result> RenderBatch(IEnumerable<(string Template, JsonObject Context, long NowMs)> cases)
    {
        NodeModules(Path.Combine("@huggingface", "jinja"));
        var array = new JsonArray();
        foreach (var (template, context, now) in cases)
        {
            array.Add(new JsonObject { ["template"] = template, ["context"] = context.DeepClone(), ["now"] = now });
        }
        string request = new JsonObject { ["cases"] = array }.ToJsonString();
        var psi = new ProcessStartInfo("node", "render.mjs")
        {
            WorkingDirectory = OracleDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        psi.Environment["TZ"] = "UTC";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderrTask = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request);
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(true);
            throw new TimeoutException("node oracle did not finish in 60 s");
        }
        string stdout = stdoutTask.Result;
        if (process.ExitCode != 0) throw new InvalidOperationException($"node oracle failed ({process.ExitCode}): {stderrTask.Result}");
        var results = JsonNode.Parse(stdout)!.AsArray();
        return results.Select(r => new Result(r!["output"]?.GetValue<string>(), r["error"]?.GetValue<string>())).ToList();
    }
}
