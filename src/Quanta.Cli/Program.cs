using System.CommandLine;

namespace Quanta.Cli;

/// <summary>The `quanta` command: one command, subcommands by job (see shared/design/cli.md).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Quanta: run, serve, benchmark and plan AI inference.");
        foreach (var command in Commands.All()) root.Add(command);
        return root.Parse(args).Invoke();
    }
}
