using Quanta.Core.ModelFiles;

namespace Quanta.Cli;

/// <summary>
/// Runs a command body and turns user errors into one clear line on stderr and a non-zero exit code
/// (no stack trace unless --verbose), as shared/design/cli.md asks.
/// </summary>
internal static class CliRunner
{
    /// <summary>Exit code for a user error (missing file, wrong format, bad option value).</summary>
    public const int UserError = 1;

    /// <summary>Exit code for an unexpected internal failure.</summary>
    public const int InternalError = 70;

    public static int Run(bool verbose, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"quanta: error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return UserError;
        }
#pragma warning disable CA1031 // last-resort handler of the CLI: report and exit non-zero
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"quanta: internal error: {e.GetType().Name}: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("quanta: run again with --verbose for details");
            return InternalError;
        }
    }

    private static bool IsUserError(Exception e) => e is ModelFileException or FileNotFoundException or DirectoryNotFoundException
        or UnauthorizedAccessException or NotSupportedException or ArgumentException or InvalidDataException or IOException
        or Quanta.Cuda.Interop.CudaUnavailableException;   // --gpu on a machine without the NVIDIA driver or cuBLASLt
}
