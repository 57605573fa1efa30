namespace Foresight.Tests;

/// <summary>The checkout the tests were built from, found upwards from the test binaries.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Foresight.slnx")) || File.Exists(Path.Combine(d.FullName, "Foresight.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Foresight checkout above {AppContext.BaseDirectory}");
    }

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
