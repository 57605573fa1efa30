using System.CommandLine;
using System.Text.RegularExpressions;
using Foresight.Cli;

namespace Foresight.Tests;

/// <summary>The documentation: every relative link and image resolves, and docs/cli.md documents every command and flag.</summary>
public sealed partial class DocsTests
{
    private static IEnumerable<string> MarkdownFiles() =>
        new[] { Repository.PathOf("README.md") }.Concat(Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories));

    [GeneratedRegex(@"!?\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [Fact]
    public void Every_relative_link_and_image_in_the_readme_and_docs_resolves()
    {
        var broken = new List<string>();
        foreach (string file in MarkdownFiles())
            foreach (Match link in Link().Matches(File.ReadAllText(file)))
            {
                string target = link.Groups[1].Value;
                if (Regex.IsMatch(target, "^(https?:|mailto:|#)")) continue;
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target.Split('#')[0]));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetRelativePath(Repository.Root, file)}: {target}");
            }
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join("\n", broken));
        Assert.True(File.ReadAllLines(Repository.PathOf("README.md")).Length <= 260, "README.md is a user's guide of at most ~250 lines");
    }

    [Fact]
    public void Docs_cli_has_a_section_for_every_command_naming_each_of_its_flags()
    {
        string cli = File.ReadAllText(Repository.PathOf("docs", "cli.md"));
        var missing = new List<string>();
        void Check(Command command, string path)
        {
            if (command.Subcommands.Count > 0)
            {
                foreach (var sub in command.Subcommands) Check(sub, $"{path} {sub.Name}");
                return;
            }
            int start = cli.IndexOf($"### {path}\n", StringComparison.Ordinal);
            if (start < 0) { missing.Add($"no section '### {path}'"); return; }
            int end = cli.IndexOf("\n### ", start + 4, StringComparison.Ordinal);
            string section = end < 0 ? cli[start..] : cli[start..end];
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "-h" or "-?")))
                if (!Regex.IsMatch(section, $@"(^|[\s,]){Regex.Escape(option.Name)}[\s<]", RegexOptions.Multiline)) missing.Add($"{path}: {option.Name}");
        }
        foreach (var command in CommandTree.Root().Subcommands) Check(command, $"foresight {command.Name}");
        Assert.True(missing.Count == 0, "docs/cli.md lacks (tools/cli-reference regenerates its reference):\n" + string.Join("\n", missing));
    }
}
