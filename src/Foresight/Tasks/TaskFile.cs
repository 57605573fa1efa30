namespace Foresight.Tasks;

/// <summary>Reads and writes a task's examples as text, one line each (the reference code's files).</summary>
public static class TaskFile
{
    public static List<Example> Read(ITask task, string path)
    {
        if (!File.Exists(path)) throw new UserError($"data file '{path}' does not exist");
        var examples = new List<Example>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { examples.Add(task.Parse(line)); }
            catch (FormatException e) { throw new UserError($"{path}:{lineNumber}: {e.Message}"); }
        }
        if (examples.Count == 0) throw new UserError($"data file '{path}' has no examples");
        return examples;
    }

    /// <summary>Writes to a temporary file and renames it, so no file is ever half-written (the temporary one is removed on failure).</summary>
    public static void Write(ITask task, IEnumerable<Example> examples, string path)
    {
        if (File.Exists(path)) throw new UserError($"'{path}' already exists; refusing to overwrite it");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        string temp = path + ".tmp";
        try
        {
            using (var writer = new StreamWriter(temp))
                foreach (var example in examples) writer.WriteLine(task.Format(example)); // drawn lazily: drawing may fail midway
            File.Move(temp, path);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
