using System.Diagnostics;
using System.Text;

namespace Quanta.Cli.Tests;

/// <summary>Runs the built `quanta` with text piped to its stdin (CliHarness runs without stdin).</summary>
internal static class CliProcess
{
    public static CliHarness.Result RunWithInput(string stdin, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "quanta.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"CLI not built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("quanta did not exit within 60 s"); }
        return new CliHarness.Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
