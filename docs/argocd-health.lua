-- Argo CD health check for headlamp-operator.dev/v1alpha1 PortForward and ResourcePatch.
-- The same script serves both kinds: see docs/gitops.md, "Argo CD". It reads only what the
-- operator writes: status.observedGeneration, status.phase, status.reason, status.message
-- and the Ready and Stalled conditions (kstatus conventions).
hs = {}
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to reconcile this resource"
  return hs
end
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = nil
local stalled = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end
hs.message = (obj.status.reason or "") .. ": " .. (obj.status.message or "")
if obj.status.phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
else
  hs.status = "Progressing"
end
return hs
