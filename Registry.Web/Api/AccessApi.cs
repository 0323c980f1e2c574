using Microsoft.AspNetCore.Http.HttpResults;
using Registry.Core;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Web.Security;

namespace Registry.Web.Api;

/// <summary><c>/api/v1/users</c>, <c>/api/v1/keys</c>, <c>/api/v1/audit</c>, <c>/api/v1/settings</c>: accounts, keys, the audit log.</summary>
public static class AccessApi
{
    public static IEndpointRouteBuilder MapAccessApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/v1/users").WithTags("Users");
        users.MapGet("/", ListUsers).RequirePermission(Permission.ReadAdministration)
            .WithName("ListUsers").WithSummary("List users (Admin)");
        users.MapPost("/", CreateUser).RequirePermission(Permission.Administer)
            .WithName("CreateUser").WithSummary("Create a person (with a one-time password) or a service account (Admin)")
            .Accepts<CreateUserRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        users.MapPatch("/{name}", UpdateUser).RequirePermission(Permission.Administer)
            .WithName("UpdateUser").WithSummary("Change a user's role, disable or enable them, or reset their password (Admin)")
            .Accepts<UpdateUserRequest>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        users.MapGet("/{name}/keys", ListUserKeys).RequirePermission(Permission.ReadAdministration)
            .WithName("ListUserKeys").WithSummary("A user's API keys, without secrets (Admin)");
        users.MapPost("/{name}/keys", CreateServiceKey).RequirePermission(Permission.Administer)
            .WithName("CreateServiceKey").WithSummary("Create an API key for a service account; the key is in the answer, once (Admin)")
            .Accepts<CreateKeyRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        var keys = app.MapGroup("/api/v1/keys").WithTags("API keys");
        keys.MapGet("/", ListOwnKeys).RequirePermission(Permission.ReadOwnKeys)
            .WithName("ListKeys").WithSummary("Your API keys, without secrets");
        keys.MapPost("/", CreateOwnKey).RequirePermission(Permission.ManageOwnKeys)
            .WithName("CreateKey").WithSummary("Create an API key for yourself; its scopes never exceed your role. The key is in the answer, once")
            .Accepts<CreateKeyRequest>("application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        keys.MapDelete("/{id:long}", RevokeKey).RequirePermission(Permission.ManageOwnKeys)
            .WithName("RevokeKey").WithSummary("Revoke one of your keys (admins: any key); it stops working at once")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var audit = app.MapGroup("/api/v1/audit").WithTags("Audit");
        audit.MapGet("/", ListAudit).RequirePermission(Permission.ReadAdministration)
            .WithName("ListAudit").WithSummary("Audit events, newest first, filtered by actor, action (prefix), target, time (Admin)");
        audit.MapGet("/verify", VerifyAudit).RequirePermission(Permission.ReadAdministration)
            .WithName("VerifyAudit").WithSummary("Recompute the hash chain and report the first broken link, if any (Admin)");

        var settings = app.MapGroup("/api/v1/settings").WithTags("Settings");
        settings.MapGet("/", GetSettings).RequirePermission(Permission.ReadAdministration).WithName("GetSettings").WithSummary("Run-time settings (Admin)");
        settings.MapPatch("/", ChangeSettings).RequirePermission(Permission.Administer).WithName("ChangeSettings")
            .WithSummary("Change run-time settings, such as allowAnonymousRead (Admin)").Accepts<RegistrySettings.Update>("application/json");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<UserView>>, ProblemHttpResult>> ListUsers(HttpContext http, UserService users, CancellationToken ct) =>
        Answer(await users.ListAsync(http.ActorOf(), ct));

    private static async Task<Results<Created<UserWithPassword>, ProblemHttpResult>> CreateUser(HttpContext http, UserService users, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<CreateUserRequest>(http.Request, "user", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var created = await users.CreateAsync(http.ActorOf(), request.Value, ct);
        return created.IsSuccess
            ? TypedResults.Created(ApiLinks.User(created.Value.User.Name), created.Value)
            : created.Error!.ToProblem();
    }

    private static async Task<Results<Ok<UserWithPassword>, ProblemHttpResult>> UpdateUser(string name, HttpContext http, UserService users, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<UpdateUserRequest>(http.Request, "change", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        return Answer(await users.UpdateAsync(http.ActorOf(), name, request.Value, ct));
    }

    private static async Task<Results<Ok<IReadOnlyList<KeyView>>, ProblemHttpResult>> ListUserKeys(string name, HttpContext http, ApiKeyService keys, CancellationToken ct) =>
        Answer(await keys.ListAsync(http.ActorOf(), name, ct));

    private static Task<Results<Created<CreatedKey>, ProblemHttpResult>> CreateServiceKey(string name, HttpContext http, ApiKeyService keys, CancellationToken ct) =>
        CreateKey(name, http, keys, ct);

    private static async Task<Results<Ok<IReadOnlyList<KeyView>>, ProblemHttpResult>> ListOwnKeys(HttpContext http, ApiKeyService keys, CancellationToken ct) =>
        Answer(await keys.ListAsync(http.ActorOf(), null, ct));

    private static Task<Results<Created<CreatedKey>, ProblemHttpResult>> CreateOwnKey(HttpContext http, ApiKeyService keys, CancellationToken ct) =>
        CreateKey(null, http, keys, ct);

    private static async Task<Results<Created<CreatedKey>, ProblemHttpResult>> CreateKey(string? owner, HttpContext http, ApiKeyService keys, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<CreateKeyRequest>(http.Request, "key", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var created = await keys.CreateAsync(http.ActorOf(), owner, request.Value, ct);
        return created.IsSuccess ? TypedResults.Created(ApiLinks.Key(created.Value.Key.Id), created.Value) : created.Error!.ToProblem();
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RevokeKey(long id, HttpContext http, ApiKeyService keys, CancellationToken ct) =>
        Answer(await keys.RevokeAsync(http.ActorOf(), id, ct));

    private static async Task<Results<Ok<PagedList<AuditEventView>>, ProblemHttpResult>> ListAudit(HttpContext http, AuditQueries audit,
        string? actor, string? action, string? target, DateTimeOffset? from, DateTimeOffset? to, int? page, int? pageSize, CancellationToken ct)
    {
        var paging = PageRequest.Create(page, pageSize);
        if (!paging.IsSuccess) return paging.Error!.ToProblem();
        return Answer(await audit.ListAsync(http.ActorOf(), new AuditFilter(actor, action, target, from, to), paging.Value, ct));
    }

    private static async Task<Results<Ok<AuditVerification>, ProblemHttpResult>> VerifyAudit(HttpContext http, AuditQueries audit, CancellationToken ct) =>
        Answer(await audit.VerifyAsync(http.ActorOf(), ct));

    private static async Task<Results<Ok<RegistrySettings.View>, ProblemHttpResult>> GetSettings(HttpContext http, RegistrySettings settings, CancellationToken ct) =>
        Answer(await settings.GetAsync(http.ActorOf(), ct));

    private static async Task<Results<Ok<RegistrySettings.View>, ProblemHttpResult>> ChangeSettings(HttpContext http, RegistrySettings settings, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<RegistrySettings.Update>(http.Request, "settings", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        return Answer(await settings.ChangeAsync(http.ActorOf(), request.Value, ct));
    }

    private static Results<Ok<T>, ProblemHttpResult> Answer<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToProblem();
}
