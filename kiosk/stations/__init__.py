"""The base every capability stands on: stations (赛位), phases and their deadlines, the
station's sign-in with its badge and its one workstation."""
