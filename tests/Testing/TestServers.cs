using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace EdgeSigner.Testing;

/// <summary>
/// The real RabbitMQ and PostgreSQL the tests run against: the servers named by <c>EDGESIGNER_TEST_RABBITMQ</c>
/// (with its management API at <c>EDGESIGNER_TEST_RABBITMQ_MANAGEMENT</c>) and <c>EDGESIGNER_TEST_POSTGRES</c>, else
/// containers started with Testcontainers where a Docker engine answers, else a failure that says what is missing.
/// Each caller gets a virtual host or a database of its own, so runs and test classes never share queues or rows.
/// </summary>
public static class TestServers
{
    private static readonly Lazy<Task<RabbitEndpoint>> Rabbit = new(StartRabbitAsync);
    private static readonly Lazy<Task<string>> Postgres = new(StartPostgresAsync);

    private sealed record RabbitEndpoint(Uri Amqp, Uri Management, string User, string Password);

    /// <summary>Creates a fresh virtual host and returns the amqp:// URI that selects it.</summary>
    public static async Task<string> CreateRabbitVirtualHostAsync()
    {
        var server = await Rabbit.Value;
        var vhost = "edgesigner-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var http = ManagementClient(server);
        var escaped = Uri.EscapeDataString(vhost);
        (await http.PutAsync($"api/vhosts/{escaped}", null)).EnsureSuccessStatusCode();
        using var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"api/permissions/{escaped}/{Uri.EscapeDataString(server.User)}", permissions)).EnsureSuccessStatusCode();
        return new UriBuilder(server.Amqp) { Path = "/" + escaped }.Uri.ToString();
    }

    /// <summary>
    /// A RabbitMQ user of its own (a tenant's service), with the given permission patterns on the virtual host of
    /// <paramref name="amqpUri"/> only; returns the URI that connects as it. Users are server-wide: delete it after.
    /// </summary>
    public static async Task<string> CreateRabbitUserAsync(string amqpUri, string user, string password, string configure, string write, string read)
    {
        var server = await Rabbit.Value;
        using var http = ManagementClient(server);
        var vhost = new Uri(amqpUri).AbsolutePath.TrimStart('/');
        using var body = JsonContent.Create(new { password, tags = string.Empty });
        (await http.PutAsync($"api/users/{Uri.EscapeDataString(user)}", body)).EnsureSuccessStatusCode();
        using var permissions = JsonContent.Create(new { configure, write, read });
        (await http.PutAsync($"api/permissions/{vhost}/{Uri.EscapeDataString(user)}", permissions)).EnsureSuccessStatusCode();
        return new UriBuilder(amqpUri) { UserName = Uri.EscapeDataString(user), Password = Uri.EscapeDataString(password) }.Uri.ToString();
    }

    /// <summary>
    /// What an operator does for a tenant's broker user (docs/bus-clients.md): a durable fanout exchange, bound to one
    /// of EdgeSigner's queues, which the user may write to.
    /// </summary>
    public static async Task BindRabbitExchangeAsync(string amqpUri, string exchange, string queue)
    {
        var server = await Rabbit.Value;
        using var http = ManagementClient(server);
        var vhost = new Uri(amqpUri).AbsolutePath.TrimStart('/');
        using var declare = JsonContent.Create(new { type = "fanout", durable = true, auto_delete = false });
        (await http.PutAsync($"api/exchanges/{vhost}/{Uri.EscapeDataString(exchange)}", declare)).EnsureSuccessStatusCode();
        using var bind = JsonContent.Create(new { routing_key = string.Empty });
        (await http.PostAsync($"api/bindings/{vhost}/e/{Uri.EscapeDataString(exchange)}/q/{Uri.EscapeDataString(queue)}", bind)).EnsureSuccessStatusCode();
    }

    public static async Task DeleteRabbitUserAsync(string user)
    {
        var server = await Rabbit.Value;
        using var http = ManagementClient(server);
        await http.DeleteAsync($"api/users/{Uri.EscapeDataString(user)}");
    }

    /// <summary>Deletes a virtual host made by <see cref="CreateRabbitVirtualHostAsync"/>, with its queues.</summary>
    public static async Task DeleteRabbitVirtualHostAsync(string amqpUri)
    {
        var server = await Rabbit.Value;
        using var http = ManagementClient(server);
        var vhost = new Uri(amqpUri).AbsolutePath.TrimStart('/');
        await http.DeleteAsync($"api/vhosts/{vhost}");
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync()
    {
        var admin = await Postgres.Value;
        var name = "edgesigner_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true }.ConnectionString;
    }

    public static async Task DropPostgresDatabaseAsync(string connectionString)
    {
        var admin = await Postgres.Value;
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        // Best effort: an autovacuum worker on the database (a superuser process) can make the drop fail for a
        // moment; scripts/test.sh removes whatever is left before the next run.
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            catch (PostgresException ex)
            {
                Console.WriteLine($"Test database {name} left behind: {ex.MessageText}");
            }
        }
    }

    /// <summary>
    /// Peeks at up to <paramref name="count"/> messages of a queue in the virtual host of <paramref name="amqpUri"/>
    /// (through the management API; they stay in the queue): each message's headers and body.
    /// </summary>
    public static async Task<List<(Dictionary<string, string> Headers, string Body)>> PeekQueueAsync(string amqpUri, string queue, int count = 10)
    {
        var server = await Rabbit.Value;
        using var http = ManagementClient(server);
        var vhost = new Uri(amqpUri).AbsolutePath.TrimStart('/');
        using var request = new StringContent($$"""{"count":{{count}},"ackmode":"ack_requeue_true","encoding":"auto"}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync($"api/queues/{vhost}/{Uri.EscapeDataString(queue)}/get", request);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.EnumerateArray().Select(m => (
            m.GetProperty("properties").TryGetProperty("headers", out var headers)
                ? headers.EnumerateObject().ToDictionary(h => h.Name, h => h.Value.ToString(), StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            m.GetProperty("payload").GetString() ?? string.Empty)).ToList();
    }

    private static HttpClient ManagementClient(RabbitEndpoint server)
    {
        var http = new HttpClient { BaseAddress = server.Management };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.User}:{server.Password}")));
        return http;
    }

    private static async Task<RabbitEndpoint> StartRabbitAsync()
    {
        var configured = Environment.GetEnvironmentVariable("EDGESIGNER_TEST_RABBITMQ");
        if (!string.IsNullOrEmpty(configured))
        {
            var amqp = new Uri(configured);
            var management = new Uri(Environment.GetEnvironmentVariable("EDGESIGNER_TEST_RABBITMQ_MANAGEMENT") is { Length: > 0 } m
                ? m : $"http://{amqp.Host}:15672/");
            var (user, password) = Credentials(amqp);
            return new RabbitEndpoint(amqp, management, user, password);
        }

        try
        {
            var container = new RabbitMqBuilder("rabbitmq:3.13-management").WithPortBinding(15672, true).Build();
            await container.StartAsync();
            var amqp = new Uri(container.GetConnectionString());
            var (user, password) = Credentials(amqp);
            return new RabbitEndpoint(amqp, new Uri($"http://{container.Hostname}:{container.GetMappedPublicPort(15672)}/"), user, password);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                "No RabbitMQ for the tests: set EDGESIGNER_TEST_RABBITMQ (an amqp:// URI whose server has the management " +
                "plugin) or run a Docker engine for Testcontainers. scripts/test.sh provisions one on Debian. " +
                $"Testcontainers said: {ex.Message}", ex);
        }
    }

    private static async Task<string> StartPostgresAsync()
    {
        var configured = Environment.GetEnvironmentVariable("EDGESIGNER_TEST_POSTGRES");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        try
        {
            var container = new PostgreSqlBuilder("postgres:15").Build();
            await container.StartAsync();
            return container.GetConnectionString();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                "No PostgreSQL for the tests: set EDGESIGNER_TEST_POSTGRES (an Npgsql connection string of a role that " +
                "may create databases) or run a Docker engine for Testcontainers. scripts/test.sh provisions one on Debian. " +
                $"Testcontainers said: {ex.Message}", ex);
        }
    }

    private static (string User, string Password) Credentials(Uri amqp)
    {
        var parts = amqp.UserInfo.Split(':', 2);
        return parts.Length == 2 && parts[0].Length > 0
            ? (Uri.UnescapeDataString(parts[0]), Uri.UnescapeDataString(parts[1]))
            : ("guest", "guest");
    }
}
