using System.Globalization;
using System.Text.Json.Nodes;
using EdgeSigner.Testing;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EdgeSigner.EndToEnd.Tests.Compose;

/// <summary>
/// What <c>docker compose config</c> would say of docker-compose.yml, on a machine without Docker: the file, its
/// anchors and merge keys resolved, is valid against the Compose Specification's own schema, and what it refers to
/// (services it depends on, named volumes, files it mounts from the repository) exists, with every profile.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly JsonObject Compose = Load(Path.Combine(Repository.Root, "docker-compose.yml"));

    [Fact]
    public void The_compose_file_is_valid_against_the_Compose_Specification_schema()
    {
        // The schema names draft-07 as https://json-schema.org/draft-07/schema; the validator knows it by its canonical id.
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Compose", "compose-spec.json"))
            .Replace("\"https://json-schema.org/draft-07/schema\"", "\"http://json-schema.org/draft-07/schema#\"", StringComparison.Ordinal);
        var schema = JsonSchema.FromText(text);
        using var document = System.Text.Json.JsonDocument.Parse(Compose.ToJsonString());
        var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).ToList();
        Assert.True(result.IsValid, string.Join('\n', errors.Take(20)));
    }

    [Fact]
    public void What_each_service_refers_to_exists()
    {
        var services = Compose["services"]!.AsObject();
        var volumes = Compose["volumes"]?.AsObject().Select(v => v.Key).ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var (name, node) in services)
        {
            var service = node!.AsObject();
            var profiles = Profiles(service);
            foreach (var dependency in DependsOn(service))
            {
                Assert.True(services.ContainsKey(dependency), $"{name} depends on {dependency}, which is no service");
                // A service without a profile must not need one that only a profile starts.
                Assert.True(profiles.Count > 0 || Profiles(services[dependency]!.AsObject()).Count == 0,
                    $"{name} always starts but depends on {dependency}, which only its profile starts");
            }

            foreach (var mount in service["volumes"]?.AsArray().Select(v => v!.GetValue<string>()) ?? [])
            {
                var source = mount.Split(':')[0];
                if (source.StartsWith("./", StringComparison.Ordinal))
                {
                    var path = Path.Combine(Repository.Root, source[2..]);
                    Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} mounts {source}, which is not in the repository");
                }
                else if (!source.StartsWith('/'))
                {
                    Assert.Contains(source, volumes);
                }
            }
        }

        // The cluster profile has three RabbitMQ nodes and a PostgreSQL standby, and its services use them.
        var cluster = services.Where(s => Profiles(s.Value!.AsObject()).Contains("cluster")).Select(s => s.Key).ToList();
        Assert.Superset(new HashSet<string> { "rabbit-1", "rabbit-2", "rabbit-3", "pg-primary", "pg-standby", "ingress-ha" }, cluster.ToHashSet());
        var ingress = services["ingress-ha"]!["environment"]!.AsObject();
        Assert.Equal("rabbit-1:5672,rabbit-2:5672,rabbit-3:5672", ingress["EdgeSigner__RabbitMq__ClusterNodes"]!.GetValue<string>());
        Assert.Contains("Host=pg-primary,pg-standby;Target Session Attributes=primary", ingress["ConnectionStrings__Audit"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static HashSet<string> Profiles(JsonObject service) =>
        service["profiles"]?.AsArray().Select(p => p!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];

    private static IEnumerable<string> DependsOn(JsonObject service) => service["depends_on"] switch
    {
        JsonObject map => map.Select(d => d.Key),
        JsonArray list => list.Select(d => d!.GetValue<string>()),
        _ => [],
    };

    /// <summary>The YAML as JSON, as Compose reads it: anchors and merge keys (<c>&lt;&lt;</c>) resolved, plain scalars typed.</summary>
    private static JsonObject Load(string path)
    {
        using var reader = new StringReader(File.ReadAllText(path));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return (JsonObject)ToJson(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? string.Empty),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    /// <summary>A plain scalar as YAML 1.2's core schema types it: null, a boolean, a number, else a string.</summary>
    private static JsonValue? Plain(string value) => value switch
    {
        "" or "~" or "null" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
        _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && value.Any(char.IsDigit) => JsonValue.Create(real),
        _ => JsonValue.Create(value),
    };
}
