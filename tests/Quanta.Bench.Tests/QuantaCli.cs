using System.Diagnostics;

namespace Quanta.Bench.Tests;

/// <summary>Runs the built `quanta` program (copied next to the tests) and captures its output.</summary>
internal static class QuantaCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "quanta.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"CLI not built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("quanta did not exit within 120 s"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
