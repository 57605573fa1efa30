namespace Foresight;

/// <summary>
/// Writes a file whole or not at all: into a temporary file beside it, renamed over it once complete, so a kill leaves
/// either the old file or the new one. A write that fails (a full disk, a refused write) removes its temporary file, so
/// the space is free again and nothing half-written is left behind. The temporary name is the process's own: two
/// processes writing one file (array tasks sharing an experiment's root) never write into the same temporary file.
/// </summary>
public static class AtomicFile
{
    /// <summary><paramref name="write"/> writes the whole contents to the path it is given.</summary>
    public static void Write(string path, Action<string> write, string suffix = ".tmp")
    {
        string temp = $"{path}.{Environment.ProcessId}{suffix}";
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the write's own error is the one to report
            throw;
        }
    }

    /// <summary>UTF-8 without a byte order mark, as File.WriteAllText writes.</summary>
    public static void WriteText(string path, string text) => WriteStream(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    public static void WriteStream(string path, Action<Stream> write) => Write(path, temp =>
    {
        using var stream = File.Create(temp);
        write(stream);
    });

    /// <summary>Whether a file name is one of these temporary files (a process killed mid-write leaves one).</summary>
    public static bool IsTemporary(string path) => path.EndsWith(".tmp", StringComparison.Ordinal) || path.EndsWith(".tmp.png", StringComparison.Ordinal);

    /// <summary>Removes the temporary files killed processes left in a directory that is now this process's alone to write.</summary>
    public static void RemoveLeftovers(string directory)
    {
        if (!Directory.Exists(directory)) return;
        foreach (string file in Directory.EnumerateFiles(directory).Where(IsTemporary)) File.Delete(file);
    }
}
