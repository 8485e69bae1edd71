namespace Quanta.Tests.Shared;

/// <summary>
/// Locates files in the project's shared folder (../shared next to the repository). The folder is
/// found by walking up from the test binaries until a directory containing shared/testdata appears.
/// A missing file fails the test with its name; it is never a silent skip.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> s_root = new(FindRoot);

    private static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "testdata"))) return candidate;
        }
        return null;
    }


    /// <summary>Absolute path of <paramref name="relative"/> under shared/; throws naming the file if absent.</summary>
    public static string Get(string relative)
    {
        string root = s_root.Value ?? throw new FileNotFoundException(
            $"test data folder 'shared/testdata' not found above {AppContext.BaseDirectory}; needed for {relative}");
        string full = Path.Combine(root, relative);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new FileNotFoundException($"test data file missing: {full}", full);
        return full;
    }
}
