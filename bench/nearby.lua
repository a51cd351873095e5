-- Rotates GET /api/v1/centers?lat&lon&radius_km=25 over places across Thailand, so the
-- benchmark measures searches of every density, not one cached spot.
local places = {
  {13.7563, 100.5018}, {18.7883, 98.9853}, {14.9799, 102.0977}, {16.4322, 102.8236},
  {7.8804, 98.3923}, {7.1898, 100.5954}, {15.2287, 104.8564}, {19.9105, 99.8406},
  {13.3611, 100.9847}, {17.4138, 102.7872}, {9.1382, 99.3217}, {16.8211, 100.2659},
}
local i = 0
request = function()
  i = i + 1
  local p = places[(i % #places) + 1]
  return wrk.format("GET", string.format("/api/v1/centers?lat=%.4f&lon=%.4f&radius_km=25", p[1], p[2]))
end
