using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Admin;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Guardrails.Flags;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Flags;

/// <summary><c>GET</c> and <c>POST /admin/flags</c>: the flags and the three levels of break-glass.</summary>
public static class FlagsEndpoints
{
    public static RouteGroupBuilder MapFlagsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/flags", async (FlagStore store, FlagsState state, CancellationToken ct) =>
        {
            var snapshot = await store.LoadAsync(ct);
            state.TryApply(snapshot);
            return TypedResults.Ok(FlagsView.Of(snapshot));
        });
        admin.MapPost("/flags", Change);
        return admin;
    }

    public static async Task<Results<Ok<FlagsView>, ProblemHttpResult>> Change(
        HttpContext context, FlagStore store, FlagsState state, IPublishEndpoint publish, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync<FlagCommandBody>(context.Request, 1024 * 1024, ct);
        if (problem is not null)
        {
            return problem;
        }

        var (command, error) = FlagCommand.Parse(body!);
        var audit = AdminAuditFeature.For(context);
        if (command is null)
        {
            audit.Action = body!.Action is { Length: > 0 and <= 64 } action ? $"flags.{action}" : "flags";
            return Problems.InvalidRequest(error!);
        }

        var (before, after) = await store.ChangeAsync(command.Apply, ct);
        state.TryApply(after);
        await publish.Publish(new FlagsChanged { EventId = NewId.NextGuid(), Snapshot = after }, ct);

        audit.Action = command.Action;
        audit.Target = command.Target;
        audit.Before = FlagStore.Serialize(before);
        audit.After = FlagStore.Serialize(after);
        return TypedResults.Ok(FlagsView.Of(after));
    }
}

/// <summary>The effective flag state as operators read it.</summary>
public sealed record FlagsView(
    long Version, DateTimeOffset ChangedAt, EdgeSignerFlags Global, IReadOnlyDictionary<string, TenantFlagOverrides> Tenants, BreakGlassView BreakGlass)
{
    public static FlagsView Of(FlagsSnapshot s) =>
        new(s.Version, s.ChangedAt, s.Global, s.Tenants, new BreakGlassView(s.EmergencyShutdown, s.RouteRemoved));
}

public sealed record BreakGlassView(bool EmergencyShutdown, bool RouteRemoved);
