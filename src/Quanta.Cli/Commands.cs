using System.CommandLine;

namespace Quanta.Cli;

/// <summary>The subcommands, one file each; this list is the only place they are registered.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return InspectCommand.Create();
        yield return PlanCommand.Create();
        yield return ConvertCommand.Create();
        yield return QuantizeCommand.Create();
        yield return PerplexityCommand.Create();
        yield return RunCommand.Create();
        yield return ChatCommand.Create();
        yield return ServeCommand.Create();
        yield return BenchCommand.Create();
        yield return PullCommand.Create();
        yield return GpuCommand.Create();
    }
}
