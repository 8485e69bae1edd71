namespace Quanta.Models.Tests.Support;

/// <summary>Finds files under the shared test-data folder (../shared/testdata above the test binaries); a missing file fails naming it.</summary>
public static class SharedData
{
    private static readonly Lazy<string?> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "testdata"))) return candidate;
        }
        return null;
    });

    /// <summary>Absolute path of <paramref name="relative"/> under shared/.</summary>
    public static string Get(string relative)
    {
        string root = s_root.Value ?? throw new FileNotFoundException($"folder 'shared/testdata' not found above {AppContext.BaseDirectory}; needed for {relative}");
        string full = Path.Combine(root, relative);
        if (!File.Exists(full)) throw new FileNotFoundException($"test data file missing: {full}", full);
        return full;
    }
}
