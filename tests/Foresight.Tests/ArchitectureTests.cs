using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Foresight.Tests;

/// <summary>
/// The library's layers point one way: a namespace uses its own layer and the ones below it, never one above. The
/// order is the one docs/building.md writes down; this test reads it from there and checks every reference in the
/// built Foresight.dll (signatures, fields, attributes, base types and every instruction of every method body,
/// lambdas and iterators included).
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>"Tasks → Models → …" from docs/building.md's "Layers" line, lowest first, as namespaces ("Foresight" is the root).</summary>
    private static IReadOnlyList<string> DocumentedLayers()
    {
        string doc = File.ReadAllText(Path.Combine(Repository.Root, "docs", "building.md"));
        var line = Regex.Match(doc, @"^Layers, lowest first: (.+)$", RegexOptions.Multiline);
        Assert.True(line.Success, "docs/building.md has no 'Layers, lowest first: ...' line");
        return [.. Regex.Matches(line.Groups[1].Value, @"`([A-Za-z.]+)`").Select(m => m.Groups[1].Value == "Foresight" ? "Foresight" : $"Foresight.{m.Groups[1].Value}")];
    }

    [Fact]
    public void No_namespace_of_the_library_uses_one_above_it()
    {
        var layers = DocumentedLayers();
        var upward = UpwardReferences(typeof(Tasks.ITask).Assembly.Location, layers);
        Assert.True(upward.Count == 0, $"references to a higher layer ({string.Join(" -> ", layers)}):\n" + string.Join("\n", upward.Take(30)));
    }

    [Fact]
    public void Every_namespace_of_the_library_is_one_of_the_documented_layers()
    {
        var layers = DocumentedLayers();
        var namespaces = ModuleDefinition.ReadModule(typeof(Tasks.ITask).Assembly.Location).Types
            .Select(t => t.Namespace).Where(n => n == "Foresight" || n.StartsWith("Foresight.", StringComparison.Ordinal)).Distinct().Order().ToList();
        Assert.Empty(namespaces.Except(layers));
        Assert.Empty(layers.Except(namespaces));
    }

    [Fact]
    public void The_check_sees_an_upward_reference_in_a_signature_a_method_body_a_lambda_an_attribute_and_a_generic_argument()
    {
        string low = typeof(Layering.Low.InSignature).Namespace!, high = typeof(Layering.High.Target).Namespace!;
        var found = UpwardReferences(typeof(ArchitectureTests).Assembly.Location, [low, high]);
        foreach (var user in new[] { "InSignature", "InBody", "InLambda", "InAttribute", "InGenericArgument" })
            Assert.Contains(found, f => f.StartsWith($"{low}.{user}", StringComparison.Ordinal));
        Assert.DoesNotContain(found, f => f.StartsWith($"{low}.Clean", StringComparison.Ordinal));
    }

    /// <summary>"A.B.Type uses A.C.Other" for every reference from a type to a type in a higher layer of <paramref name="layers"/>.</summary>
    private static List<string> UpwardReferences(string assembly, IReadOnlyList<string> layers)
    {
        var module = ModuleDefinition.ReadModule(assembly);
        int Rank(string ns) => layers.ToList().IndexOf(ns);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            int from = Rank(Outermost(type).Namespace);
            if (from < 0) continue; // a namespace outside the layering (the test's own)
            foreach (var used in References(type))
                if (Rank(Outermost(used).Namespace) is var to && to > from)
                    found.Add($"{Outermost(type).FullName} uses {used.FullName}");
        }
        return [.. found];
    }

    internal static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    /// <summary>Every type a type names: in its declaration, its members' signatures and attributes, and its methods' bodies.</summary>
    private static IEnumerable<TypeReference> References(TypeDefinition type)
    {
        IEnumerable<TypeReference> Attributes(ICustomAttributeProvider provider) => provider.CustomAttributes.SelectMany(a =>
            a.ConstructorArguments.Concat(a.Properties.Select(p => p.Argument)).Select(arg => arg.Value).OfType<TypeReference>().Prepend(a.AttributeType));
        var named = new List<TypeReference?> { type.BaseType };
        named.AddRange(type.Interfaces.Select(i => i.InterfaceType));
        named.AddRange(Attributes(type));
        named.AddRange(type.Fields.Select(f => f.FieldType));
        foreach (var property in type.Properties)
        {
            named.Add(property.PropertyType);
            named.AddRange(Attributes(property));
        }
        foreach (var method in type.Methods)
        {
            named.Add(method.ReturnType);
            named.AddRange(method.Parameters.Select(p => p.ParameterType));
            named.AddRange(Attributes(method));
            if (!method.HasBody) continue;
            named.AddRange(method.Body.Variables.Select(v => v.VariableType));
            foreach (var instruction in method.Body.Instructions)
                switch (instruction.Operand)
                {
                    case TypeReference t: named.Add(t); break;
                    case MethodReference m:
                        named.Add(m.DeclaringType);
                        named.Add(m.ReturnType);
                        named.AddRange(m.Parameters.Select(p => p.ParameterType));
                        if (m is GenericInstanceMethod generic) named.AddRange(generic.GenericArguments);
                        break;
                    case FieldReference f:
                        named.Add(f.DeclaringType);
                        named.Add(f.FieldType);
                        break;
                }
        }
        return named.OfType<TypeReference>().SelectMany(Unwrapped);
    }

    /// <summary>A type and the types inside it: the element of an array, the arguments of a generic.</summary>
    private static IEnumerable<TypeReference> Unwrapped(TypeReference type)
    {
        if (type is GenericInstanceType generic)
            foreach (var argument in generic.GenericArguments.SelectMany(Unwrapped)) yield return argument;
        if (type is TypeSpecification specification)
        {
            foreach (var element in Unwrapped(specification.ElementType)) yield return element;
            yield break;
        }
        if (type is not GenericParameter) yield return type;
    }
}
